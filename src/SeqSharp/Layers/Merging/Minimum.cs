using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// The element-wise minimum of its inputs (Keras <c>Minimum</c>): <c>output = min(x₁, …, xₙ)</c>.
/// </summary>
/// <remarks>
/// No weights. Masks, as Keras 3: a masked step of an input is left out (the smallest of the other
/// inputs is taken there); when every input has a mask, the output mask is their OR.
/// </remarks>
/// <example>
/// <code>
/// var minimum = new Minimum().Call([a, b]);
/// </code>
/// </example>
public sealed class Minimum : Merge
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    public Minimum(string? name = null, ScalarType? dtype = null) : base(name, dtype)
    {
    }

    /// <inheritdoc />
    protected override Tensor MergeFunction(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks) => FoldMasked((a, b) => a.minimum(b), inputs, masks);

    internal static Minimum FromConfig(LayerConfig c) => new(c.Name, c.DType);
}
