using SeqSharp.Losses;
using static TorchSharp.torch;

namespace SeqSharp.Metrics;

/// <summary>
/// The coefficient of determination over every sample since the last reset (Keras 3
/// <c>keras.metrics.R2Score</c>): per output, <c>1 - Σ(y - ŷ)² / Σ(y - ȳ)²</c>, then averaged over
/// the outputs. 1 is a perfect fit, 0 is no better than predicting the mean, and it can be negative.
/// </summary>
/// <remarks>
/// <para>Inputs are <c>(batch, outputs)</c>. Sequence outputs <c>(batch, timesteps, units)</c> are
/// flattened to <c>(batch · timesteps, units)</c>: every time step is one observation of each unit
/// (Keras itself accepts only 2-D inputs). A trailing axis of size 1 on one side is ignored, so
/// targets <c>(batch,)</c> match predictions <c>(batch, 1)</c>, and targets <c>(batch, timesteps)</c>
/// match predictions <c>(batch, timesteps, 1)</c> as one output.</para>
/// <para>Sums are kept in doubles and the score is computed from them, so it is exact over the
/// epoch. An output whose targets are all equal has no variance: its score is 0 if the residual is
/// non-zero and NaN if it is zero, as in Keras.</para>
/// </remarks>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "mse", metrics: ["r2"]);
/// </code>
/// </example>
public sealed class R2Score : Metric
{
    private static readonly string[] Aggregations = ["uniform_average", "variance_weighted_average"];

    private double[]? _sum;
    private double[]? _squaredSum;
    private double[]? _residual;
    private double[]? _count;
    private double _numSamples;

    /// <summary>Creates the metric.</summary>
    /// <param name="classAggregation">
    /// How per-output scores combine: <c>"uniform_average"</c> (default, the plain mean) or
    /// <c>"variance_weighted_average"</c> (weighted by each output's variance).
    /// </param>
    /// <param name="numRegressors">
    /// For the adjusted R², the number of independent regressors <c>p</c>:
    /// <c>1 - (1 - R²)(n - 1)/(n - p - 1)</c> with <c>n</c> the number of target values seen (as in Keras).
    /// 0 (default) gives the plain R². When <c>p ≥ n - 1</c> the plain R² is returned.
    /// </param>
    /// <param name="name">Default <c>"r2_score"</c>.</param>
    /// <exception cref="ArgumentException">An unknown aggregation or an empty name.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative <paramref name="numRegressors"/>.</exception>
    public R2Score(string classAggregation = "uniform_average", int numRegressors = 0, string? name = null) : base(name ?? "r2_score")
    {
        if (classAggregation is null || !Aggregations.Contains(classAggregation))
            throw new ArgumentException(
                $"Invalid value for argument classAggregation. Expected one of: {string.Join(", ", Aggregations.Select(a => $"\"{a}\""))}. " +
                $"Received: classAggregation={(classAggregation is null ? "null" : $"\"{classAggregation}\"")}.", nameof(classAggregation));
        if (numRegressors < 0)
            throw new ArgumentOutOfRangeException(nameof(numRegressors), numRegressors, $"Expected numRegressors >= 0. Received: numRegressors={numRegressors}.");
        ClassAggregation = classAggregation;
        NumRegressors = numRegressors;
    }

    /// <summary>How per-output scores combine.</summary>
    public string ClassAggregation { get; }

    /// <summary>The number of regressors for the adjusted R² (0 for the plain R²).</summary>
    public int NumRegressors { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">
    /// Inputs that are not <c>(batch, outputs)</c> or <c>(batch, timesteps, units)</c> of equal shapes,
    /// a different number of outputs than earlier batches, or weights that do not broadcast.
    /// </exception>
    public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (t, p) = LossInputs.Cast(yTrue, yPred, Who);
        t = t.detach().to_type(ScalarType.Float64);
        p = p.detach().to_type(ScalarType.Float64);
        // Targets (batch, timesteps) against predictions (batch, timesteps, 1) are one output over
        // all steps, like any 3-D input, rather than Keras's squeeze to `timesteps` outputs.
        if (t.dim() == 2 && p.dim() == 3 && p.shape[^1] == 1)
            t = t.unsqueeze(-1);
        else if (p.dim() == 2 && t.dim() == 3 && t.shape[^1] == 1)
            p = p.unsqueeze(-1);
        else
            (t, p) = LossInputs.SqueezeOrExpandToSameRank(t, p);
        if (!t.shape.SequenceEqual(p.shape) || t.dim() is not (2 or 3))
            throw new ArgumentException(
                $"{Who} expected y_true and y_pred of the same shape (batch, outputs) or (batch, timesteps, units). " +
                $"Received: y_true.shape={LossInputs.Shape(yTrue)}, y_pred.shape={LossInputs.Shape(yPred)}.");
        long outputs = p.shape[^1];
        if (_sum is not null && _sum.Length != outputs)
            throw new ArgumentException(
                $"{Who} was built for {_sum.Length} outputs by an earlier batch. Received: y_pred.shape={LossInputs.Shape(yPred)} with {outputs} outputs.");

        var w = sampleWeight is null
            ? ones_like(t)
            : LossReduction.AlignToPrefix(sampleWeight.detach().to_type(ScalarType.Float64).to(t.device), t, Who).broadcast_to(t.shape);
        t = t.reshape(-1, outputs);
        p = p.reshape(-1, outputs);
        w = w.reshape(-1, outputs);

        var weightedTrue = t * w;
        double[] sum = Column(weightedTrue.sum(dim: 0));
        double[] squaredSum = Column((t * weightedTrue).sum(dim: 0));
        double[] residual = Column(((t - p).square() * w).sum(dim: 0));
        double[] count = Column(w.sum(dim: 0));
        _sum ??= new double[outputs];
        _squaredSum ??= new double[outputs];
        _residual ??= new double[outputs];
        _count ??= new double[outputs];
        for (int j = 0; j < outputs; j++)
        {
            _sum[j] += sum[j];
            _squaredSum[j] += squaredSum[j];
            _residual[j] += residual[j];
            _count[j] += count[j];
        }
        _numSamples += t.numel();
    }

    /// <inheritdoc />
    public override double Result()
    {
        if (_sum is null)
            return 0.0;
        int outputs = _sum.Length;
        var total = new double[outputs];
        var raw = new double[outputs];
        for (int j = 0; j < outputs; j++)
        {
            double mean = _sum[j] / _count![j];
            total[j] = _squaredSum![j] - _sum[j] * mean;
            raw[j] = 1 - _residual![j] / total[j];
            if (double.IsInfinity(raw[j]))
                raw[j] = 0;
        }
        double r2 = ClassAggregation == "uniform_average"
            ? raw.Average()
            : raw.Zip(total, (r, v) => r * v).Sum() / total.Sum();
        if (NumRegressors == 0 || NumRegressors >= _numSamples - 1)
            return r2;
        double n = _numSamples, k = NumRegressors;
        return 1 - (1 - r2) * (n - 1) / (n - k - 1);
    }

    /// <inheritdoc />
    public override void ResetState()
    {
        _sum = _squaredSum = _residual = _count = null;
        _numSamples = 0;
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["class_aggregation"] = ClassAggregation;
        config["num_regressors"] = NumRegressors;
        return config;
    }

    /// <inheritdoc />
    protected internal override double[]? SummableState() =>
        _sum is null ? null : [_numSamples, .. _sum, .. _squaredSum!, .. _residual!, .. _count!];

    /// <inheritdoc />
    protected internal override void LoadSummableState(double[] state)
    {
        int outputs = (state.Length - 1) / 4;
        _numSamples = state[0];
        _sum = state[1..(1 + outputs)];
        _squaredSum = state[(1 + outputs)..(1 + 2 * outputs)];
        _residual = state[(1 + 2 * outputs)..(1 + 3 * outputs)];
        _count = state[(1 + 3 * outputs)..];
    }

    private static double[] Column(Tensor t) => t.contiguous().data<double>().ToArray();
}
