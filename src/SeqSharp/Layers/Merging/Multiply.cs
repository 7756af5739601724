using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Multiplies its inputs element-wise (Keras <c>Multiply</c>): <c>output = x₁ · x₂ · … · xₙ</c>.
/// </summary>
/// <remarks>
/// No weights. Masks, as Keras 3: a masked step of an input counts as 1 in the product; when every
/// input has a mask, the output mask is their OR and the output is 0 where all inputs are masked.
/// </remarks>
/// <example>
/// <code>
/// var gated = new Multiply().Call([values, gates]);
/// </code>
/// </example>
public sealed class Multiply : Merge
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    public Multiply(string? name = null, ScalarType? dtype = null) : base(name, dtype)
    {
    }

    /// <inheritdoc />
    protected override Tensor MergeFunction(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks)
    {
        bool allMasked = masks.All(m => m is not null);
        Tensor? output = null, outputMask = null;
        for (int i = 0; i < inputs.Count; i++)
        {
            var x = inputs[i];
            if (masks[i] is { } mask)
            {
                var spread = Spread(mask, x);
                x = where(spread, x, ones_like(x));
                if (allMasked)
                    outputMask = outputMask is null ? spread : outputMask.logical_or(spread);
            }
            output = output is null ? x : output * x;
        }
        if (outputMask is not null)
            output = where(outputMask, output!, zeros_like(output!));
        return inputs.Count == 1 && outputMask is null ? output!.alias() : output!;
    }

    internal static Multiply FromConfig(LayerConfig c) => new(c.Name, c.DType);
}
