using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Dropout of whole feature channels of a sequence (Keras <c>SpatialDropout1D</c>, Tompson et al.
/// 2014): on <c>(batch, timesteps, channels)</c> each sample drops a fraction <see cref="Dropout.Rate"/>
/// of its channels at every time step, which regularises better than element-wise dropout when
/// neighbouring steps are strongly correlated (e.g. after a convolution).
/// </summary>
/// <remarks>Acts only in training mode, as <see cref="Dropout"/>; the mask shape is <c>(batch, 1, channels)</c>.</remarks>
/// <example>
/// <code>
/// model.Add(new Conv1D(32, 3));
/// model.Add(new SpatialDropout1D(0.2));
/// </code>
/// </example>
public sealed class SpatialDropout1D : Dropout
{
    /// <summary>Creates the layer.</summary>
    /// <param name="rate">Fraction of the channels to drop, in [0, 1].</param>
    /// <param name="seed">Seed of the layer's own random generator; null for the global one.</param>
    /// <param name="inputShape">Sample shape <c>(timesteps, channels)</c> when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is outside [0, 1].</exception>
    public SpatialDropout1D(double rate, long? seed = null, long?[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(rate, null, seed, inputShape, name, dtype)
    {
    }

    /// <inheritdoc />
    public override InputSpec InputSpec => new(Rank: 3);

    private protected override long[] MaskShape(Tensor x) => [x.shape[0], 1, x.shape[2]];

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config.Remove("noise_shape");
        return config;
    }

    internal static new SpatialDropout1D FromConfig(LayerConfig c) =>
        new(c.Double("rate"), c.OptionalLong("seed"), c.InputShape, c.Name, c.DType);
}
