using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// The shared part of <see cref="MaxPooling1D"/> and <see cref="AveragePooling1D"/> (Keras
/// <c>BasePooling</c>): windows of <see cref="PoolSize"/> steps every <see cref="Strides"/> steps
/// along the time axis of <c>(batch, steps, channels)</c>, each channel separately.
/// </summary>
/// <remarks>
/// Output steps: <c>floor((steps - poolSize) / strides) + 1</c> with <c>"valid"</c> padding,
/// <c>ceil(steps / strides)</c> with <c>"same"</c> (padding split as TensorFlow does, the odd one
/// at the end). Pooling drops masks, as in Keras.
/// </remarks>
public abstract class Pooling1D : Layer
{
    /// <summary>Validates and stores the window.</summary>
    /// <param name="poolSize">Window size in steps, positive.</param>
    /// <param name="strides">Step between windows, positive; null for <paramref name="poolSize"/> (Keras's default).</param>
    /// <param name="padding"><c>"valid"</c> or <c>"same"</c> (case-insensitive).</param>
    /// <param name="inputShape">Sample shape when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive size or stride.</exception>
    /// <exception cref="ArgumentException">Unknown padding.</exception>
    protected Pooling1D(int poolSize, int? strides, string padding, long?[]? inputShape, string? name, ScalarType? dtype)
        : base(name, inputShape, dtype)
    {
        if (poolSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(poolSize), poolSize, $"Expected a positive pool size. Received: poolSize={poolSize}.");
        if (strides is <= 0)
            throw new ArgumentOutOfRangeException(nameof(strides), strides, $"Expected positive strides. Received: strides={strides}.");
        PoolSize = poolSize;
        Strides = strides ?? poolSize;
        Padding = ConvPadding.Normalize(padding, allowCausal: false);
    }

    /// <summary>Window size in steps.</summary>
    public int PoolSize { get; }

    /// <summary>Step between windows.</summary>
    public int Strides { get; }

    /// <summary><c>"valid"</c> or <c>"same"</c>.</summary>
    public string Padding { get; }

    /// <inheritdoc />
    public override InputSpec InputSpec => new(Rank: 3);

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape) => ComputeOutputShape(sampleShape);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">With "valid" padding, fewer steps than the pool size.</exception>
    public override long[] ComputeOutputShape(long[] sampleShape)
    {
        long steps = ConvPadding.OutputLength(Padding, sampleShape[0], PoolSize, Strides, 1);
        if (steps < 1 && steps != -1)
            throw new ArgumentException(
                $"Layer '{Name}' needs at least {PoolSize} steps with padding \"valid\". Received input of sample shape {ShapeText.Format(sampleShape)}.");
        return [steps, sampleShape[1]];
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var (before, after) = ConvPadding.Amounts(Padding, x.shape[1], PoolSize, Strides, 1);
        return Pool(x.permute(0, 2, 1), before, after).permute(0, 2, 1);
    }

    /// <summary>Pools a channels-first <c>(batch, channels, steps)</c> input that needs <paramref name="before"/> and <paramref name="after"/> padding steps.</summary>
    private protected abstract Tensor Pool(Tensor channelsFirst, long before, long after);

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["pool_size"] = new long[] { PoolSize };
        config["padding"] = Padding;
        config["strides"] = new long[] { Strides };
        config["data_format"] = "channels_last";
        return config;
    }
}
