using SeqSharp.Losses;
using static TorchSharp.torch;

namespace SeqSharp.Metrics;

/// <summary>
/// The weighted mean of all values seen since the last reset (Keras <c>keras.metrics.Mean</c>):
/// <c>total / count</c>. Feed it with <see cref="UpdateValues"/> or <see cref="UpdateValue"/>;
/// <see cref="MeanMetricWrapper"/> feeds it from <c>(y_true, y_pred)</c>.
/// </summary>
/// <remarks>
/// As in Keras, each sample counts once: values of shape <c>(batch, timesteps)</c> are first
/// averaged over the time steps, then each sample adds its weight (1 without weights) to the count.
/// </remarks>
/// <example>
/// <code>
/// var lossTracker = new Mean("loss");
/// lossTracker.UpdateValue(batchLoss, weight: batchSize);   // as Keras tracks the epoch loss
/// </code>
/// </example>
public class Mean : Metric
{
    private double _total;
    private double _count;

    /// <summary>Creates the metric.</summary>
    /// <param name="name">Default <c>"mean"</c>.</param>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public Mean(string? name = null) : base(name ?? "mean") { }

    /// <summary>The weighted sum of the per-sample values.</summary>
    public double Total => _total;

    /// <summary>The sum of the sample weights (the number of samples without weights).</summary>
    public double Count => _count;

    /// <summary>
    /// Adds values (Keras <c>Mean.update_state(values, sample_weight)</c>): values of shape
    /// <c>(batch, ...)</c> are reduced to one per sample by their mean; the weights multiply them.
    /// </summary>
    /// <param name="values">A scalar or <c>(batch, ...)</c>.</param>
    /// <param name="sampleWeight">
    /// Null, a scalar (the whole batch then counts as one sample of that weight), or a prefix of the
    /// values' shape such as <c>(batch,)</c> or <c>(batch, timesteps)</c>.
    /// </param>
    /// <exception cref="ArgumentException">Weights that do not broadcast over the values; nothing is added then.</exception>
    public void UpdateValues(Tensor values, Tensor? sampleWeight = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var v = values.detach().to_type(ScalarType.Float64);
        Tensor? w = null;
        if (sampleWeight is not null)
        {
            w = sampleWeight.detach().to_type(ScalarType.Float64).to(v.device);
            (v, w) = LossInputs.SqueezeOrExpandToSameRank(v, w);
            if (v.dim() > w.dim())
                v = v.mean(Axes(w.dim(), v.dim()));
            if (v.dim() != w.dim() || w.shape.Zip(v.shape).Any(d => d.First != d.Second && d.First != 1))
                throw new ArgumentException(
                    $"{Who} expected sample_weight to be a scalar, of shape (batch,), or of a shape that is a prefix of the values' shape " +
                    $"{LossInputs.Shape(values)} (each size equal or 1). Received: sample_weight.shape={LossInputs.Shape(sampleWeight)}.");
            w = w.broadcast_to(v.shape);
            v = v * w;
            if (w.dim() > 1)
                w = w.mean(Axes(1, w.dim()));
        }
        if (v.dim() > 1)
            v = v.mean(Axes(1, v.dim()));
        double total = v.sum().item<double>();
        double count = w is not null ? w.sum().item<double>() : v.dim() >= 1 ? v.shape[0] : 1;
        _total += total;
        _count += count;
    }

    /// <summary>Adds one value with a weight (Keras's scalar fast path, used for the epoch loss with the batch size as weight).</summary>
    /// <param name="value">The value, e.g. a batch's mean loss.</param>
    /// <param name="weight">Its weight, e.g. the batch size; default 1.</param>
    public void UpdateValue(double value, double weight = 1.0)
    {
        _total += value * weight;
        _count += weight;
    }

    /// <summary>A plain <see cref="Mean"/> has no function of <c>(y_true, y_pred)</c>; use <see cref="UpdateValues"/>, or <see cref="MeanMetricWrapper"/>.</summary>
    /// <exception cref="NotSupportedException">Always, for a plain <see cref="Mean"/>.</exception>
    public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null) =>
        throw new NotSupportedException(
            $"{Who} is a plain Mean: it averages values given to UpdateValues(values, sampleWeight). " +
            "To average a function of (y_true, y_pred), use MeanMetricWrapper or a named metric such as \"mae\".");

    /// <inheritdoc />
    public override double Result() => _count == 0 ? 0.0 : _total / _count;

    /// <inheritdoc />
    protected internal override double[]? SummableState() => [_total, _count];

    /// <inheritdoc />
    protected internal override void LoadSummableState(double[] state) => (_total, _count) = (state[0], state[1]);

    /// <inheritdoc />
    public override void ResetState()
    {
        _total = 0;
        _count = 0;
    }

    private static long[] Axes(long from, long to)
    {
        var axes = new long[to - from];
        for (long i = from; i < to; i++)
            axes[i - from] = i;
        return axes;
    }
}
