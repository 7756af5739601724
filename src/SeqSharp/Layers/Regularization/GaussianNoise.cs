using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Adds zero-centred Gaussian noise of standard deviation <see cref="Stddev"/> during training
/// (Keras <c>GaussianNoise</c>), a regulariser and a form of data augmentation for real-valued
/// inputs; passes its input through in inference mode.
/// </summary>
/// <example>
/// <code>
/// model.Add(new GaussianNoise(0.1, inputShape: [30, 2]));
/// model.Add(new LSTM(32));
/// </code>
/// </example>
public sealed class GaussianNoise : Layer
{
    private readonly LayerRandom _random;

    /// <summary>Creates the layer.</summary>
    /// <param name="stddev">Standard deviation of the noise, in [0, 1] (Keras's range).</param>
    /// <param name="seed">Seed of the layer's own random generator; null for the global one.</param>
    /// <param name="inputShape">Sample shape when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stddev"/> is outside [0, 1].</exception>
    public GaussianNoise(double stddev, long? seed = null, long?[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(name, inputShape, dtype)
    {
        if (!(stddev >= 0 && stddev <= 1))
            throw new ArgumentOutOfRangeException(nameof(stddev), stddev, $"Expected a standard deviation between 0 and 1. Received: stddev={stddev}.");
        Stddev = stddev;
        _random = new LayerRandom(seed);
    }

    /// <summary>The noise's standard deviation.</summary>
    public double Stddev { get; }

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
    public override Tensor forward(Tensor x) =>
        training && Stddev > 0 ? x + _random.Normal(x.shape, x.dtype).mul_(Stddev) : x.alias();

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["stddev"] = Stddev;
        config["seed"] = Seed;
        return config;
    }

    internal static GaussianNoise FromConfig(LayerConfig c) => new(c.Double("stddev"), c.OptionalLong("seed"), c.InputShape, c.Name, c.DType);
}
