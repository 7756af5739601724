using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Subtracts its second input from its first, element-wise (Keras <c>Subtract</c>):
/// <c>output = x₁ − x₂</c>. Takes exactly two inputs.
/// </summary>
/// <remarks>
/// No weights. Masks: the output mask is the OR of the two masks when both inputs have one (Keras 3).
/// </remarks>
/// <example>
/// <code>
/// var difference = new Subtract().Call([a, b]);
/// </code>
/// </example>
public sealed class Subtract : Merge
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    public Subtract(string? name = null, ScalarType? dtype = null) : base(name, dtype)
    {
    }

    /// <summary>Two.</summary>
    public override int MinInputs => 2;

    /// <summary>Two.</summary>
    public override int? MaxInputs => 2;

    /// <inheritdoc />
    protected override Tensor MergeFunction(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks) => inputs[0] - inputs[1];

    internal static Subtract FromConfig(LayerConfig c) => new(c.Name, c.DType);
}
