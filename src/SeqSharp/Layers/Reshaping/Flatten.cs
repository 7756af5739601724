using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Flattens each sample into a vector (Keras <c>Flatten</c>): <c>(batch, d1, d2, ...)</c> becomes
/// <c>(batch, d1·d2·...)</c>, in row-major (channels-last) order; <c>(batch)</c> becomes <c>(batch, 1)</c>.
/// </summary>
/// <example>
/// <code>
/// model.Add(new Conv1D(16, 3, inputShape: [24, 2]));
/// model.Add(new Flatten());
/// model.Add(new Dense(1));
/// </code>
/// </example>
public sealed class Flatten : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="inputShape">Sample shape when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    public Flatten(long?[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(name, inputShape, dtype)
    {
    }

    /// <inheritdoc />
    public override InputSpec InputSpec => new(MinRank: 1);

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape)
    {
    }

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape) => [sampleShape.Contains(-1) ? -1 : sampleShape.Aggregate(1L, (a, d) => a * d)];

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => x.reshape(x.shape[0], -1);

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["data_format"] = "channels_last";
        return config;
    }

    internal static Flatten FromConfig(LayerConfig c)
    {
        c.RequireChannelsLast();
        return new(c.InputShape, c.Name, c.DType);
    }
}
