using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Masks the time steps whose features all equal <see cref="MaskValue"/> (Keras <c>Masking</c>):
/// those steps are zeroed and masked, so recurrent layers after it skip them.
/// </summary>
/// <remarks>
/// The mask of <c>(batch, timesteps, features)</c> input is <c>(batch, timesteps)</c>: true where
/// any feature differs from <see cref="MaskValue"/>. It replaces any incoming mask.
/// </remarks>
/// <example>
/// <code>
/// // Sequences of different lengths, padded with zeros to 30 steps:
/// model.Add(new Masking(maskValue: 0.0, inputShape: [30, 4]));
/// model.Add(new LSTM(32));
/// </code>
/// </example>
public sealed class Masking : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="maskValue">The padding value.</param>
    /// <param name="inputShape">Sample shape <c>(timesteps, features)</c> when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    public Masking(double maskValue = 0.0, long?[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(name, inputShape, dtype)
    {
        MaskValue = maskValue;
    }

    /// <summary>The padding value.</summary>
    public double MaskValue { get; }

    /// <inheritdoc />
    public override InputSpec InputSpec => new(MinRank: 2);

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape)
    {
    }

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape) => sampleShape;

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => x * x.ne(MaskValue).any(-1, keepdim: true).to_type(x.dtype);

    /// <inheritdoc />
    protected internal override Tensor? ComputeMask(Tensor input, Tensor? mask) => input.ne(MaskValue).any(-1);

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["mask_value"] = MaskValue;
        return config;
    }

    internal static Masking FromConfig(LayerConfig c) => new(c.Double("mask_value", 0.0), c.InputShape, c.Name, c.DType);
}
