using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// The mean over all time steps of each channel (Keras <c>GlobalAveragePooling1D</c>):
/// <c>(batch, steps, channels)</c> becomes <c>(batch, channels)</c>. With a mask, only unmasked
/// steps are averaged (Keras: a sample whose steps are all masked gives 0/0, NaN).
/// </summary>
/// <example>
/// <code>
/// model.Add(new Embedding(1000, 16, maskZero: true, inputShape: [20]));
/// model.Add(new GlobalAveragePooling1D());      // average over the real words only
/// model.Add(new Dense(1, activation: "sigmoid"));
/// </code>
/// </example>
public sealed class GlobalAveragePooling1D : GlobalPooling1D
{
    /// <summary>Creates the layer.</summary>
    /// <param name="keepdims">Keep the time axis with length 1.</param>
    /// <param name="inputShape">Sample shape <c>(steps, channels)</c> when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    public GlobalAveragePooling1D(bool keepdims = false, long?[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(keepdims, inputShape, name, dtype)
    {
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => x.mean([1], keepdim: Keepdims);

    /// <inheritdoc />
    protected override Tensor ForwardMasked(Tensor x, Tensor mask)
    {
        if (mask.dim() != 2)
            throw new ArgumentException(
                $"Layer '{Name}' expects a mask of shape (batch, steps). Received: mask shape {ShapeText.Format(mask.shape)}.", nameof(mask));
        var weights = mask.to_type(x.dtype).unsqueeze(2);
        return (x * weights).sum([1], keepdim: Keepdims) / weights.sum([1], keepdim: Keepdims);
    }

    internal static GlobalAveragePooling1D FromConfig(LayerConfig c)
    {
        c.RequireChannelsLast();
        return new(c.Bool("keepdims", false), c.InputShape, c.Name, c.DType);
    }
}
