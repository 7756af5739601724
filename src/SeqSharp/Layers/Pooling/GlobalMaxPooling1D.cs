using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// The maximum over all time steps of each channel (Keras <c>GlobalMaxPooling1D</c>):
/// <c>(batch, steps, channels)</c> becomes <c>(batch, channels)</c>. Like Keras, it ignores masks.
/// </summary>
/// <example>
/// <code>
/// model.Add(new Conv1D(64, 5, activation: "relu", inputShape: [100, 8]));
/// model.Add(new GlobalMaxPooling1D());
/// </code>
/// </example>
public sealed class GlobalMaxPooling1D : GlobalPooling1D
{
    /// <summary>Creates the layer.</summary>
    /// <param name="keepdims">Keep the time axis with length 1.</param>
    /// <param name="inputShape">Sample shape <c>(steps, channels)</c> when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    public GlobalMaxPooling1D(bool keepdims = false, long?[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(keepdims, inputShape, name, dtype)
    {
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => x.amax([1], keepdim: Keepdims);

    internal static GlobalMaxPooling1D FromConfig(LayerConfig c)
    {
        c.RequireChannelsLast();
        return new(c.Bool("keepdims", false), c.InputShape, c.Name, c.DType);
    }
}
