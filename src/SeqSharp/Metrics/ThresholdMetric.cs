using static TorchSharp.torch;

namespace SeqSharp.Metrics;

/// <summary>
/// What <see cref="Precision"/> and <see cref="Recall"/> share: thresholds, <c>topK</c>,
/// <c>classId</c>, and two running counts per threshold.
/// </summary>
public abstract class ThresholdMetric : Metric
{
    private readonly double[] _first;
    private readonly double[] _second;

    /// <summary>Validates and stores the arguments.</summary>
    /// <param name="thresholds">Thresholds in [0, 1]; null for 0.5 (or, with <paramref name="topK"/>, Keras's -1e10).</param>
    /// <param name="topK">Count only the <c>topK</c> highest predictions of each sample as positive; null for all.</param>
    /// <param name="classId">Count only this class (an index on the last axis); null for all.</param>
    /// <param name="name">The metric name.</param>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside [0, 1], a non-positive <paramref name="topK"/> or a negative <paramref name="classId"/>.</exception>
    private protected ThresholdMetric(double[]? thresholds, int? topK, int? classId, string name) : base(name)
    {
        if (thresholds is not null && (thresholds.Length == 0 || thresholds.Any(t => !(t >= 0 && t <= 1))))
            throw new ArgumentOutOfRangeException(nameof(thresholds),
                $"Expected thresholds in [0, 1]. Received: thresholds=[{string.Join(", ", thresholds)}].");
        if (topK is <= 0)
            throw new ArgumentOutOfRangeException(nameof(topK), topK, $"Expected a positive topK (or null). Received: topK={topK}.");
        if (classId is < 0)
            throw new ArgumentOutOfRangeException(nameof(classId), classId, $"Expected a non-negative classId (or null). Received: classId={classId}.");
        InitThresholds = thresholds?.ToArray();
        Thresholds = thresholds?.ToArray() ?? [topK is null ? 0.5 : ConfusionCounts.NegativeInfinity];
        TopK = topK;
        ClassId = classId;
        _first = new double[Thresholds.Count];
        _second = new double[Thresholds.Count];
    }

    /// <summary>The thresholds in use: a prediction above a threshold counts as positive.</summary>
    public IReadOnlyList<double> Thresholds { get; }

    /// <summary>The thresholds as given (null for the default), as saved in the config.</summary>
    private double[]? InitThresholds { get; }

    /// <summary>Only the <c>TopK</c> highest predictions of a sample count as positive; null for all.</summary>
    public int? TopK { get; }

    /// <summary>The one class counted, or null for all.</summary>
    public int? ClassId { get; }

    /// <summary>True positives at each threshold.</summary>
    private protected double[] TruePositives => _first;

    /// <summary>The other count: false positives (precision) or false negatives (recall).</summary>
    private protected double[] OtherCounts => _second;

    /// <summary>The counts of one batch; the subclass picks the one it keeps besides the true positives.</summary>
    private protected abstract double[] Other(ConfusionCounts.Batch batch);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Shapes that do not match, or a <c>classId</c> beyond the last axis.</exception>
    public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (t, p, w) = ConfusionCounts.Prepare(yTrue, yPred, sampleWeight, Who);
        if (TopK is int k)
            p = ConfusionCounts.FilterTopK(p, k);
        if (ClassId is int id)
        {
            if (p.dim() < 2 || id >= p.shape[^1])
                throw new ArgumentException(
                    $"{Who} has classId={id}, so y_pred must be (batch, classes) with more than {id} classes. Received: y_pred.shape={Losses.LossInputs.Shape(yPred)}.");
            t = t[.., id];
            p = p[.., id];
            w = w[.., id];
        }
        var batch = ConfusionCounts.Count(t, p, w, [.. Thresholds], perLabel: false);
        ConfusionCounts.Accumulate(_first, batch.TruePositives);
        ConfusionCounts.Accumulate(_second, Other(batch));
    }

    /// <summary>The value at each threshold (<see cref="Metric.Result"/> is the first).</summary>
    public double[] ResultPerThreshold() =>
        Enumerable.Range(0, Thresholds.Count).Select(i => ConfusionCounts.DivideNoNan(_first[i], _first[i] + _second[i])).ToArray();

    /// <inheritdoc />
    public override double Result() => ResultPerThreshold()[0];

    /// <inheritdoc />
    internal override IEnumerable<(string Key, double Value)> LogEntries()
    {
        if (Thresholds.Count == 1)
        {
            yield return (Name, Result());
            yield break;
        }
        var values = ResultPerThreshold();
        for (int i = 0; i < values.Length; i++)
            yield return ($"{Name}[{i}]", values[i]);
    }

    /// <inheritdoc />
    public override void ResetState()
    {
        Array.Clear(_first);
        Array.Clear(_second);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["thresholds"] = InitThresholds is null ? null : InitThresholds.Length == 1 ? InitThresholds[0] : InitThresholds.ToList();
        config["top_k"] = TopK;
        config["class_id"] = ClassId;
        return config;
    }
}
