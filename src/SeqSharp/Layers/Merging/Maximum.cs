using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// The element-wise maximum of its inputs (Keras <c>Maximum</c>): <c>output = max(x₁, …, xₙ)</c>.
/// </summary>
/// <remarks>
/// No weights. Masks, as Keras 3: a masked step of an input is left out (the largest of the other
/// inputs is taken there); when every input has a mask, the output mask is their OR.
/// </remarks>
/// <example>
/// <code>
/// var maximum = new Maximum().Call([a, b]);
/// </code>
/// </example>
public sealed class Maximum : Merge
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    public Maximum(string? name = null, ScalarType? dtype = null) : base(name, dtype)
    {
    }

    /// <inheritdoc />
    protected override Tensor MergeFunction(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks) => FoldMasked((a, b) => a.maximum(b), inputs, masks);

    internal static Maximum FromConfig(LayerConfig c) => new(c.Name, c.DType);
}
