using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Repeats a vector <see cref="N"/> times along a new time axis (Keras <c>RepeatVector</c>):
/// <c>(batch, features)</c> becomes <c>(batch, n, features)</c>, as between the encoder and the
/// decoder of a sequence autoencoder.
/// </summary>
/// <example>
/// <code>
/// model.Add(new LSTM(16, inputShape: [30, 1]));      // (batch, 16)
/// model.Add(new RepeatVector(30));                    // (batch, 30, 16)
/// model.Add(new LSTM(16, returnSequences: true));
/// </code>
/// </example>
public sealed class RepeatVector : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="n">The number of repetitions, positive.</param>
    /// <param name="inputShape">Sample shape <c>(features)</c> when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not positive.</exception>
    public RepeatVector(int n, long?[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(name, inputShape, dtype)
    {
        if (n <= 0)
            throw new ArgumentOutOfRangeException(nameof(n), n, $"Expected a positive number of repetitions. Received: n={n}.");
        N = n;
    }

    /// <summary>The number of repetitions.</summary>
    public int N { get; }

    /// <inheritdoc />
    public override InputSpec InputSpec => new(Rank: 2);

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape)
    {
    }

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape) => [N, sampleShape[0]];

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => x.unsqueeze(1).expand(x.shape[0], N, x.shape[1]);

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["n"] = N;
        return config;
    }

    internal static RepeatVector FromConfig(LayerConfig c) => new(c.Int("n"), c.InputShape, c.Name, c.DType);
}
