using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Adds its inputs element-wise (Keras <c>Add</c>): <c>output = x₁ + x₂ + … + xₙ</c>, for inputs of
/// the same shape (or shapes that broadcast).
/// </summary>
/// <remarks>
/// No weights. Masks: the output mask is the OR of the input masks when every input has one
/// (Keras 3); the values are summed at every step.
/// </remarks>
/// <example>
/// <code>
/// var sum = new Add().Call([a, b]);   // (batch, 10, 8) + (batch, 10, 8)
/// </code>
/// </example>
public sealed class Add : Merge
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    public Add(string? name = null, ScalarType? dtype = null) : base(name, dtype)
    {
    }

    /// <inheritdoc />
    protected override Tensor MergeFunction(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks)
    {
        var output = inputs[0];
        for (int i = 1; i < inputs.Count; i++)
            output = output + inputs[i];
        return inputs.Count == 1 ? output.alias() : output;
    }

    internal static Add FromConfig(LayerConfig c) => new(c.Name, c.DType);
}
