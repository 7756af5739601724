using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Averages its inputs element-wise (Keras <c>Average</c>): <c>output = (x₁ + … + xₙ) / n</c>.
/// </summary>
/// <remarks>
/// No weights. Masks: the output mask is the OR of the input masks when every input has one
/// (Keras 3); masked steps still count in the average, as in Keras.
/// </remarks>
/// <example>
/// <code>
/// var mean = new Average().Call([a, b, c]);
/// </code>
/// </example>
public sealed class Average : Merge
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    public Average(string? name = null, ScalarType? dtype = null) : base(name, dtype)
    {
    }

    /// <inheritdoc />
    protected override Tensor MergeFunction(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks)
    {
        var output = inputs[0];
        for (int i = 1; i < inputs.Count; i++)
            output = output + inputs[i];
        return output / inputs.Count;
    }

    internal static Average FromConfig(LayerConfig c) => new(c.Name, c.DType);
}
