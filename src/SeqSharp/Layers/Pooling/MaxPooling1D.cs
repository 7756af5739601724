using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SeqSharp.Layers;

/// <summary>
/// Max pooling over time (Keras <c>MaxPooling1D</c>): the largest value of each channel in each
/// window; see <see cref="Pooling1D"/> for windows and padding ("same" padding never wins the max).
/// </summary>
/// <example>
/// <code>
/// model.Add(new Conv1D(32, 3, activation: "relu", inputShape: [48, 2]));
/// model.Add(new MaxPooling1D(poolSize: 2));     // (batch, 23, 32)
/// </code>
/// </example>
public sealed class MaxPooling1D : Pooling1D
{
    /// <summary>Creates the layer.</summary>
    /// <param name="poolSize">Window size in steps; Keras's default 2.</param>
    /// <param name="strides">Step between windows; null for <paramref name="poolSize"/>.</param>
    /// <param name="padding"><c>"valid"</c> or <c>"same"</c>.</param>
    /// <param name="inputShape">Sample shape <c>(steps, channels)</c> when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive size or stride.</exception>
    /// <exception cref="ArgumentException">Unknown padding.</exception>
    public MaxPooling1D(int poolSize = 2, int? strides = null, string padding = "valid", long?[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(poolSize, strides, padding, inputShape, name, dtype)
    {
    }

    private protected override Tensor Pool(Tensor channelsFirst, long before, long after)
    {
        if (before + after > 0)
            channelsFirst = F.pad(channelsFirst, [before, after], value: double.NegativeInfinity);
        return F.max_pool1d(channelsFirst, PoolSize, Strides);
    }

    internal static MaxPooling1D FromConfig(LayerConfig c)
    {
        c.RequireChannelsLast();
        return new(c.SingleInt("pool_size", 2), c.Has("strides") ? c.SingleInt("strides") : null, c.String("padding", "valid"), c.InputShape, c.Name, c.DType);
    }
}
