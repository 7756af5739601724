using static TorchSharp.torch;

namespace SeqSharp.Metrics;

/// <summary>
/// The area under the ROC or precision-recall curve, approximated as Keras 3's
/// <c>keras.metrics.AUC</c> does: predictions are counted at <c>numThresholds</c> thresholds
/// (<c>-1e-7</c>, <c>i / (numThresholds - 1)</c> for i = 1 .. numThresholds - 2, and <c>1 + 1e-7</c>),
/// and the curve through those points is summed as a Riemann sum.
/// </summary>
/// <remarks>
/// <para>ROC: x = false-positive rate <c>FP / (FP + TN)</c>, y = recall <c>TP / (TP + FN)</c>; PR:
/// x = recall, y = precision. <c>"interpolation"</c> uses trapezoids for ROC and, for PR, Davis and
/// Goadrich's interpolation (TP and TP + FP linear between thresholds, the area in closed form);
/// <c>"minoring"</c> and <c>"majoring"</c> use the lower or upper step.</para>
/// <para>With <c>multiLabel</c>, predictions are <c>(batch, labels)</c>, each label gets its own
/// curve, and the result is their mean (weighted by <c>labelWeights</c> if given). Otherwise every
/// value counts as one observation and <c>labelWeights</c> weight the columns' counts.</para>
/// </remarks>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "binary_crossentropy", metrics: [new AUC(), new AUC(curve: "PR", name: "pr_auc")]);
/// </code>
/// </example>
public sealed class AUC : Metric
{
    private static readonly string[] Curves = ["ROC", "PR"];
    private static readonly string[] Summations = ["interpolation", "minoring", "majoring"];

    private readonly double[] _thresholds;
    private readonly double[]? _initThresholds;
    private double[]? _tp, _fp, _tn, _fn;
    private int _labels;

    /// <summary>Creates the metric.</summary>
    /// <param name="numThresholds">The number of thresholds, more than 1. Default 200. Ignored when <paramref name="thresholds"/> is given.</param>
    /// <param name="curve"><c>"ROC"</c> (default) or <c>"PR"</c> (either case).</param>
    /// <param name="summationMethod"><c>"interpolation"</c> (default), <c>"minoring"</c> or <c>"majoring"</c>.</param>
    /// <param name="name">Default <c>"auc"</c>.</param>
    /// <param name="thresholds">Thresholds in [0, 1] to use instead of evenly spaced ones (<c>-1e-7</c> and <c>1 + 1e-7</c> are added).</param>
    /// <param name="multiLabel">Whether each column of <c>(batch, labels)</c> predictions is a separate label with its own curve.</param>
    /// <param name="numLabels">With <paramref name="multiLabel"/>, the number of labels; otherwise taken from the first batch.</param>
    /// <param name="labelWeights">Per-label weights; null for equal.</param>
    /// <param name="fromLogits">Whether predictions are logits (a sigmoid is applied first).</param>
    /// <exception cref="ArgumentException">An unknown curve or summation method, or <paramref name="numLabels"/> without <paramref name="multiLabel"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numThresholds"/> ≤ 1, or a threshold outside [0, 1].</exception>
    public AUC(int numThresholds = 200, string curve = "ROC", string summationMethod = "interpolation", string? name = null,
        double[]? thresholds = null, bool multiLabel = false, int? numLabels = null, double[]? labelWeights = null, bool fromLogits = false)
        : base(name ?? "auc")
    {
        Curve = curve?.ToUpperInvariant() is { } c && Curves.Contains(c)
            ? c
            : throw new ArgumentException($"Invalid curve: {(curve is null ? "null" : $"\"{curve}\"")}. Expected one of: \"ROC\", \"PR\".", nameof(curve));
        SummationMethod = summationMethod?.ToLowerInvariant() is { } s && Summations.Contains(s)
            ? s
            : throw new ArgumentException(
                $"Invalid summationMethod: {(summationMethod is null ? "null" : $"\"{summationMethod}\"")}. Expected one of: \"interpolation\", \"minoring\", \"majoring\".",
                nameof(summationMethod));
        if (thresholds is not null)
        {
            if (thresholds.Any(t => !(t >= 0 && t <= 1)))
                throw new ArgumentOutOfRangeException(nameof(thresholds), $"Expected thresholds in [0, 1]. Received: thresholds=[{string.Join(", ", thresholds)}].");
            _initThresholds = [.. thresholds.Order()];
            NumThresholds = thresholds.Length + 2;
        }
        else
        {
            if (numThresholds <= 1)
                throw new ArgumentOutOfRangeException(nameof(numThresholds), numThresholds, $"Expected numThresholds > 1. Received: numThresholds={numThresholds}.");
            NumThresholds = numThresholds;
        }
        var inner = _initThresholds ?? Enumerable.Range(0, NumThresholds - 2).Select(i => (i + 1) * 1.0 / (NumThresholds - 1)).ToArray();
        _thresholds = [0.0 - Losses.LossInputs.Epsilon, .. inner, 1.0 + Losses.LossInputs.Epsilon];
        if (numLabels is not null && !multiLabel)
            throw new ArgumentException("numLabels is needed only when multiLabel is true.", nameof(numLabels));
        if (numLabels is <= 0)
            throw new ArgumentOutOfRangeException(nameof(numLabels), numLabels, $"Expected a positive numLabels. Received: numLabels={numLabels}.");
        MultiLabel = multiLabel;
        NumLabels = numLabels;
        LabelWeights = labelWeights?.ToArray();
        FromLogits = fromLogits;
    }

    /// <summary>The number of thresholds, the two end points included.</summary>
    public int NumThresholds { get; }

    /// <summary><c>"ROC"</c> or <c>"PR"</c>.</summary>
    public string Curve { get; }

    /// <summary><c>"interpolation"</c>, <c>"minoring"</c> or <c>"majoring"</c>.</summary>
    public string SummationMethod { get; }

    /// <summary>Whether each column is a separate label.</summary>
    public bool MultiLabel { get; }

    /// <summary>The number of labels given at construction, or null.</summary>
    public int? NumLabels { get; }

    /// <summary>Per-label weights, or null.</summary>
    public IReadOnlyList<double>? LabelWeights { get; }

    /// <summary>Whether predictions are logits.</summary>
    public bool FromLogits { get; }

    /// <summary>The thresholds used, end points included.</summary>
    public IReadOnlyList<double> Thresholds => _thresholds;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Shapes that do not match; with <c>multiLabel</c>, predictions that are not <c>(batch, labels)</c> or a different number of labels than before.</exception>
    public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (t, p, w) = ConfusionCounts.Prepare(yTrue, yPred, sampleWeight, Who);
        int labels = 1;
        if (MultiLabel)
        {
            if (p.dim() != 2)
                throw new ArgumentException($"{Who} has multiLabel=true, so y_pred must have rank 2 (batch, labels). Received: y_pred.shape={Losses.LossInputs.Shape(yPred)}.");
            labels = checked((int)p.shape[1]);
            int expected = _tp is null ? NumLabels ?? labels : _labels;
            if (labels != expected)
                throw new ArgumentException($"{Who} counts {expected} labels. Received: y_pred.shape={Losses.LossInputs.Shape(yPred)}.");
        }
        if (LabelWeights is { } lw)
        {
            if (p.dim() == 0 || p.shape[^1] != lw.Count)
                throw new ArgumentException($"{Who} has {lw.Count} label weights, which must match the last axis of y_pred. Received: y_pred.shape={Losses.LossInputs.Shape(yPred)}.");
            // Without multiLabel, Keras weights the counts by label; with it, the label weights average the per-label areas instead.
            if (!MultiLabel)
                w = w * tensor(lw.ToArray(), ScalarType.Float64).to(p.device);
        }
        if (FromLogits)
            p = p.sigmoid();
        var batch = ConfusionCounts.Count(t, p, w, _thresholds, perLabel: MultiLabel);
        if (_tp is null)
        {
            _labels = labels;
            _tp = new double[NumThresholds * labels];
            _fp = new double[_tp.Length];
            _tn = new double[_tp.Length];
            _fn = new double[_tp.Length];
        }
        ConfusionCounts.Accumulate(_tp, batch.TruePositives);
        ConfusionCounts.Accumulate(_fp!, batch.FalsePositives);
        ConfusionCounts.Accumulate(_tn!, batch.TrueNegatives);
        ConfusionCounts.Accumulate(_fn!, batch.FalseNegatives);
    }

    /// <inheritdoc />
    public override double Result()
    {
        if (_tp is null)
            return 0.0;
        var areas = new double[_labels];
        for (int label = 0; label < _labels; label++)
            areas[label] = Curve == "PR" && SummationMethod == "interpolation" ? InterpolatedPrArea(label) : RiemannArea(label);
        if (!MultiLabel)
            return areas[0];
        if (LabelWeights is null)
            return areas.Average();
        return ConfusionCounts.DivideNoNan(areas.Zip(LabelWeights, (a, w) => a * w).Sum(), LabelWeights.Sum());
    }

    /// <inheritdoc />
    public override void ResetState()
    {
        if (_tp is null)
            return;
        Array.Clear(_tp);
        Array.Clear(_fp!);
        Array.Clear(_tn!);
        Array.Clear(_fn!);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["num_thresholds"] = NumThresholds;
        config["curve"] = Curve;
        config["summation_method"] = SummationMethod;
        config["multi_label"] = MultiLabel;
        config["num_labels"] = NumLabels;
        config["label_weights"] = LabelWeights?.ToList();
        config["from_logits"] = FromLogits;
        if (_initThresholds is not null)
            config["thresholds"] = _initThresholds.ToList();
        return config;
    }

    private double At(double[] counts, int threshold, int label) => counts[threshold * _labels + label];

    private double RiemannArea(int label)
    {
        double X(int i) => Curve == "ROC"
            ? ConfusionCounts.DivideNoNan(At(_fp!, i, label), At(_fp!, i, label) + At(_tn!, i, label))
            : ConfusionCounts.DivideNoNan(At(_tp!, i, label), At(_tp!, i, label) + At(_fn!, i, label));
        double Y(int i) => Curve == "ROC"
            ? ConfusionCounts.DivideNoNan(At(_tp!, i, label), At(_tp!, i, label) + At(_fn!, i, label))
            : ConfusionCounts.DivideNoNan(At(_tp!, i, label), At(_tp!, i, label) + At(_fp!, i, label));
        double area = 0;
        for (int i = 0; i < NumThresholds - 1; i++)
        {
            double height = SummationMethod switch
            {
                "interpolation" => (Y(i) + Y(i + 1)) / 2,
                "minoring" => Math.Min(Y(i), Y(i + 1)),
                _ => Math.Max(Y(i), Y(i + 1)),
            };
            area += (X(i) - X(i + 1)) * height;
        }
        return area;
    }

    /// <summary>Keras's <c>interpolate_pr_auc</c> (Davis &amp; Goadrich 2006, section 4, in closed form).</summary>
    private double InterpolatedPrArea(int label)
    {
        double area = 0;
        for (int i = 0; i < NumThresholds - 1; i++)
        {
            double tpA = At(_tp!, i, label), tpB = At(_tp!, i + 1, label);
            double pA = tpA + At(_fp!, i, label), pB = tpB + At(_fp!, i + 1, label);
            double dtp = tpA - tpB;
            double dp = pA - pB;
            double slope = ConfusionCounts.DivideNoNan(dtp, Math.Max(dp, 0));
            double intercept = tpB - slope * pB;
            double ratio = pA > 0 && pB > 0 ? ConfusionCounts.DivideNoNan(pA, Math.Max(pB, 0)) : 1.0;
            double positives = Math.Max(tpB + At(_fn!, i + 1, label), 0);
            area += ConfusionCounts.DivideNoNan(slope * (dtp + intercept * Math.Log(ratio)), positives);
        }
        return area;
    }
}
