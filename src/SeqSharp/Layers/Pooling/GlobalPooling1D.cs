using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// The shared part of <see cref="GlobalAveragePooling1D"/> and <see cref="GlobalMaxPooling1D"/>
/// (Keras <c>BaseGlobalPooling</c>): one value per channel over all steps of
/// <c>(batch, steps, channels)</c>, giving <c>(batch, channels)</c>, or <c>(batch, 1, channels)</c>
/// with <see cref="Keepdims"/>. The output has no mask.
/// </summary>
public abstract class GlobalPooling1D : Layer
{
    /// <summary>Stores the arguments.</summary>
    /// <param name="keepdims">Keep the time axis with length 1.</param>
    /// <param name="inputShape">Sample shape when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    protected GlobalPooling1D(bool keepdims, long?[]? inputShape, string? name, ScalarType? dtype)
        : base(name, inputShape, dtype)
    {
        Keepdims = keepdims;
    }

    /// <summary>Whether the time axis is kept with length 1.</summary>
    public bool Keepdims { get; }

    /// <inheritdoc />
    public override InputSpec InputSpec => new(Rank: 3);

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape)
    {
    }

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape) => Keepdims ? [1, sampleShape[1]] : [sampleShape[1]];

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["data_format"] = "channels_last";
        config["keepdims"] = Keepdims;
        return config;
    }
}
