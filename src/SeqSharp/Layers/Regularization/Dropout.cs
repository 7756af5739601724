using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Randomly sets a fraction <see cref="Rate"/> of its inputs to zero during training and scales the
/// others by <c>1 / (1 - rate)</c> (Keras <c>Dropout</c>); passes its input through in inference mode.
/// </summary>
/// <remarks>
/// <para>Acts only when the layer is in training mode (<c>train()</c>, and always inside
/// <c>Fit</c>; never inside <c>Predict</c> and <c>Evaluate</c>). A <see cref="NoiseShape"/> with size 1 on an axis shares
/// one mask value along that axis: <c>noiseShape: [null, 1, null]</c> on <c>(batch, timesteps,
/// features)</c> drops the same features at every step. Passes masks on.</para>
/// </remarks>
/// <example>
/// <code>
/// model.Add(new LSTM(64, returnSequences: true));
/// model.Add(new Dropout(0.2));
/// </code>
/// </example>
public class Dropout : Layer
{
    private readonly LayerRandom _random;

    /// <summary>Creates the layer.</summary>
    /// <param name="rate">Fraction of the inputs to drop, in [0, 1].</param>
    /// <param name="noiseShape">The shape of the mask, batch axis included, broadcast over the input; null entries take the input's size. Null for an independent mask per element.</param>
    /// <param name="seed">Seed of the layer's own random generator; null for the global one.</param>
    /// <param name="inputShape">Sample shape when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is outside [0, 1], or a noise shape size is not positive.</exception>
    public Dropout(double rate, long?[]? noiseShape = null, long? seed = null, long?[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(name, inputShape, dtype)
    {
        if (!(rate >= 0 && rate <= 1))
            throw new ArgumentOutOfRangeException(nameof(rate), rate, $"Expected a rate between 0 and 1. Received: rate={rate}.");
        if (noiseShape is not null && noiseShape.Any(d => d is <= 0))
            throw new ArgumentOutOfRangeException(nameof(noiseShape),
                $"Expected positive sizes or null in noiseShape. Received: noiseShape=[{string.Join(", ", noiseShape.Select(d => d?.ToString() ?? "null"))}].");
        Rate = rate;
        NoiseShape = noiseShape?.ToArray();
        _random = new LayerRandom(seed);
    }

    /// <summary>Fraction of the inputs dropped in training.</summary>
    public double Rate { get; }

    /// <summary>The mask shape (batch axis included, null entries from the input), or null for the input's shape.</summary>
    public long?[]? NoiseShape { get; }

    /// <summary>The seed, or null.</summary>
    public long? Seed => _random.Seed;

    /// <inheritdoc />
    public override InputSpec InputSpec => new(MinRank: 1);

    /// <inheritdoc />
    protected override bool SupportsMasking => true;

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape)
    {
    }

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape) => sampleShape;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        if (!training || Rate == 0)
            return x.alias();
        return x * _random.DropoutMask(MaskShape(x), Rate, x.dtype);
    }

    /// <summary>The shape of the mask for an input; the whole input's shape by default.</summary>
    private protected virtual long[] MaskShape(Tensor x)
    {
        if (NoiseShape is null)
            return x.shape;
        if (NoiseShape.Length != x.dim())
            throw new ArgumentException(
                $"Layer '{Name}' has a noise shape of rank {NoiseShape.Length}, which does not fit its input of shape {ShapeText.Format(x.shape)}.");
        return NoiseShape.Select((d, axis) => d ?? x.shape[axis]).ToArray();
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["rate"] = Rate;
        config["seed"] = Seed;
        config["noise_shape"] = NoiseShape?.ToArray();
        return config;
    }

    internal static Dropout FromConfig(LayerConfig c) =>
        new(c.Double("rate"), c.NullableLongs("noise_shape"), c.OptionalLong("seed"), c.InputShape, c.Name, c.DType);
}
