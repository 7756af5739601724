using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Permutes the axes of each sample (Keras <c>Permute</c>). Axes are numbered from 1, the batch axis
/// being 0 and left in place: <c>Permute([2, 1])</c> turns <c>(batch, timesteps, features)</c> into
/// <c>(batch, features, timesteps)</c>.
/// </summary>
/// <example>
/// <code>
/// model.Add(new Permute([2, 1], inputShape: [10, 64]));   // (batch, 64, 10)
/// </code>
/// </example>
public sealed class Permute : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="dims">A permutation of <c>1..n</c> for samples of rank n.</param>
    /// <param name="inputShape">Sample shape when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentException"><paramref name="dims"/> is not a permutation of 1..n.</exception>
    public Permute(int[] dims, long?[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(name, inputShape, dtype)
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Length == 0 || !dims.Order().SequenceEqual(Enumerable.Range(1, dims.Length)))
            throw new ArgumentException(
                $"Invalid permutation argument dims for Permute layer: expected a permutation of 1..{dims.Length} (the batch axis 0 stays in place). " +
                $"Received: dims=[{string.Join(", ", dims)}].", nameof(dims));
        Dims = dims.ToArray();
    }

    /// <summary>The permutation, 1-based.</summary>
    public int[] Dims { get; }

    /// <inheritdoc />
    public override InputSpec InputSpec => new(Rank: Dims.Length + 1);

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape)
    {
    }

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape) => Dims.Select(d => sampleShape[d - 1]).ToArray();

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => x.permute([0, .. Dims.Select(d => (long)d)]);

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["dims"] = Dims.ToArray();
        return config;
    }

    internal static Permute FromConfig(LayerConfig c) =>
        new(c.Longs("dims").Select(d => checked((int)d)).ToArray(), c.InputShape, c.Name, c.DType);
}
