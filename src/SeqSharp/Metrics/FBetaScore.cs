using static TorchSharp.torch;

namespace SeqSharp.Metrics;

/// <summary>
/// The F-beta score (Keras 3 <c>keras.metrics.FBetaScore</c>), over everything since the last reset:
/// <c>(1 + β²) · precision · recall / (β² · precision + recall)</c>, per class from <c>(batch, classes)</c>
/// inputs, with Keras's <c>1e-7</c> in each denominator.
/// </summary>
/// <remarks>
/// <para>A prediction counts as positive when it is above <c>threshold</c>, or, with no threshold, when
/// it is its row's maximum (and not 0). <c>average</c>: null (default) keeps one score per class,
/// <c>"micro"</c> counts over all classes together, <c>"macro"</c> averages the class scores,
/// <c>"weighted"</c> weights them by each class's (weighted) number of true labels.</para>
/// <para>With <c>average</c> null, <see cref="Metric.Result"/> is the mean of the class scores,
/// <see cref="ResultPerClass"/> gives each, and training logs hold <c>name[0]</c>, <c>name[1]</c>, ...
/// (Keras logs one array).</para>
/// </remarks>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "categorical_crossentropy", metrics: [new FBetaScore(average: "macro", beta: 2.0)]);
/// </code>
/// </example>
public class FBetaScore : Metric
{
    private static readonly string[] Averages = ["micro", "macro", "weighted"];

    private double[]? _tp, _fp, _fn, _support;

    /// <summary>Creates the metric.</summary>
    /// <param name="average">null (per class), <c>"micro"</c>, <c>"macro"</c> or <c>"weighted"</c>.</param>
    /// <param name="beta">The weight of recall relative to precision, positive. Default 1.</param>
    /// <param name="threshold">In (0, 1]; null for the row maximum.</param>
    /// <param name="name">Default <c>"fbeta_score"</c>.</param>
    /// <exception cref="ArgumentException">An unknown average.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive beta, or a threshold outside (0, 1].</exception>
    public FBetaScore(string? average = null, double beta = 1.0, double? threshold = null, string? name = null)
        : base(name ?? "fbeta_score")
    {
        if (average is not null && !Averages.Contains(average))
            throw new ArgumentException(
                $"Invalid average: \"{average}\". Expected one of: null, \"micro\", \"macro\", \"weighted\".", nameof(average));
        if (!(beta > 0 && double.IsFinite(beta)))
            throw new ArgumentOutOfRangeException(nameof(beta), beta, $"Expected beta > 0. Received: beta={beta}.");
        if (threshold is double t && !(t > 0 && t <= 1))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, $"Expected 0 < threshold <= 1. Received: threshold={t}.");
        Average = average;
        Beta = beta;
        Threshold = threshold;
    }

    /// <summary>How class scores combine: null, <c>"micro"</c>, <c>"macro"</c> or <c>"weighted"</c>.</summary>
    public string? Average { get; }

    /// <summary>The weight of recall relative to precision.</summary>
    public double Beta { get; }

    /// <summary>The threshold, or null for the row maximum.</summary>
    public double? Threshold { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Inputs that are not both <c>(batch, classes)</c> of one shape, or a different number of classes than before.</exception>
    public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (t, p) = Losses.LossInputs.Cast(yTrue, yPred, Who);
        t = t.detach().to_type(ScalarType.Float64);
        p = p.detach().to_type(ScalarType.Float64);
        if (t.dim() != 2 || p.dim() != 2 || !t.shape.SequenceEqual(p.shape))
            throw new ArgumentException(
                $"{Who} expects 2D inputs of one shape (batch, classes). Received: y_true.shape={Losses.LossInputs.Shape(yTrue)}, y_pred.shape={Losses.LossInputs.Shape(yPred)}.");
        int classes = checked((int)p.shape[1]);
        if (_tp is not null && _tp.Length != (Average == "micro" ? 1 : classes))
            throw new ArgumentException($"{Who} was built for {_tp.Length} classes by an earlier batch. Received: y_pred.shape={Losses.LossInputs.Shape(yPred)}.");
        var predicted = Threshold is double threshold
            ? p.gt(threshold)
            : p.ge(p.amax([-1], keepdim: true)).logical_and(p.abs().gt(1e-9));
        var positive = predicted.to_type(ScalarType.Float64);
        Tensor w = sampleWeight is null ? ones(p.shape[0], 1, dtype: ScalarType.Float64) : sampleWeight.detach().to_type(ScalarType.Float64).to(p.device);
        while (w.dim() < 2)
            w = w.unsqueeze(-1);
        w = w.broadcast_to(p.shape);
        double[] Sum(Tensor values)
        {
            var weighted = values * w;
            var reduced = Average == "micro" ? weighted.sum().reshape(1) : weighted.sum(dim: 0);
            return reduced.contiguous().data<double>().ToArray();
        }
        var tp = Sum(positive * t);
        var fp = Sum(positive * (1.0 - t));
        var fn = Sum((1.0 - positive) * t);
        var support = Sum(t);
        _tp ??= new double[tp.Length];
        _fp ??= new double[tp.Length];
        _fn ??= new double[tp.Length];
        _support ??= new double[tp.Length];
        ConfusionCounts.Accumulate(_tp, tp);
        ConfusionCounts.Accumulate(_fp, fp);
        ConfusionCounts.Accumulate(_fn, fn);
        ConfusionCounts.Accumulate(_support, support);
    }

    /// <summary>The score of each class (one value with <c>"micro"</c>); empty before any update.</summary>
    public double[] ResultPerClass()
    {
        if (_tp is null)
            return [];
        const double eps = Losses.LossInputs.Epsilon;
        double b2 = Beta * Beta;
        return Enumerable.Range(0, _tp.Length).Select(i =>
        {
            double precision = _tp[i] / (_tp[i] + _fp![i] + eps);
            double recall = _tp[i] / (_tp[i] + _fn![i] + eps);
            return precision * recall / (b2 * precision + recall + eps) * (1 + b2);
        }).ToArray();
    }

    /// <inheritdoc />
    public override double Result()
    {
        var scores = ResultPerClass();
        if (scores.Length == 0)
            return 0.0;
        if (Average == "weighted")
        {
            double total = _support!.Sum() + Losses.LossInputs.Epsilon;
            return scores.Zip(_support!, (s, w) => s * w / total).Sum();
        }
        return scores.Average();
    }

    /// <inheritdoc />
    internal override IEnumerable<(string Key, double Value)> LogEntries()
    {
        if (Average is not null)
        {
            yield return (Name, Result());
            yield break;
        }
        var scores = ResultPerClass();
        for (int i = 0; i < scores.Length; i++)
            yield return ($"{Name}[{i}]", scores[i]);
    }

    /// <inheritdoc />
    public override void ResetState()
    {
        if (_tp is null)
            return;
        Array.Clear(_tp);
        Array.Clear(_fp!);
        Array.Clear(_fn!);
        Array.Clear(_support!);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["average"] = Average;
        config["beta"] = Beta;
        config["threshold"] = Threshold;
        return config;
    }
}
