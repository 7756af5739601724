using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SeqSharp.Layers;

/// <summary>
/// Average pooling over time (Keras <c>AveragePooling1D</c>): the mean of each channel in each
/// window; see <see cref="Pooling1D"/> for windows and padding. As in Keras, with "same" padding a
/// window that reaches past the sequence averages only its real steps (padding is not counted).
/// </summary>
/// <example>
/// <code>
/// model.Add(new AveragePooling1D(poolSize: 4, padding: "same", inputShape: [30, 3]));   // (batch, 8, 3)
/// </code>
/// </example>
public sealed class AveragePooling1D : Pooling1D
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
    public AveragePooling1D(int poolSize = 2, int? strides = null, string padding = "valid", long?[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(poolSize, strides, padding, inputShape, name, dtype)
    {
    }

    private protected override Tensor Pool(Tensor channelsFirst, long before, long after)
    {
        if (before + after == 0)
            return F.avg_pool1d(channelsFirst, PoolSize, Strides);
        // Window sums of the zero-padded input divided by the number of real steps in each window.
        var sums = F.avg_pool1d(F.pad(channelsFirst, [before, after]), PoolSize, Strides);
        using var ones = torch.ones(new[] { 1, 1, channelsFirst.shape[2] }, channelsFirst.dtype);
        using var counts = F.avg_pool1d(F.pad(ones, [before, after]), PoolSize, Strides);
        return sums / counts;
    }

    internal static AveragePooling1D FromConfig(LayerConfig c)
    {
        c.RequireChannelsLast();
        return new(c.SingleInt("pool_size", 2), c.Has("strides") ? c.SingleInt("strides") : null, c.String("padding", "valid"), c.InputShape, c.Name, c.DType);
    }
}
