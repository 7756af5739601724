namespace SeqSharp.Metrics;

/// <summary>
/// Precision, <c>TP / (TP + FP)</c> over everything since the last reset (Keras 3
/// <c>keras.metrics.Precision</c>): a prediction above the threshold (default 0.5) counts as positive,
/// a non-zero label as positive. Sample weights weight the counts; 0 when nothing was predicted positive.
/// </summary>
/// <remarks>
/// With several thresholds, <see cref="Metric.Result"/> is the first one's value,
/// <see cref="ThresholdMetric.ResultPerThreshold"/> gives all, and training logs hold
/// <c>precision[0]</c>, <c>precision[1]</c>, ... (Keras logs one array).
/// </remarks>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "binary_crossentropy", metrics: ["accuracy", new Precision(), new Recall()]);
/// </code>
/// </example>
public sealed class Precision : ThresholdMetric
{
    /// <summary>Creates the metric.</summary>
    /// <param name="thresholds">Thresholds in [0, 1]; null for 0.5 (or, with <paramref name="topK"/>, -1e10: the top k are positive).</param>
    /// <param name="topK">Count only the <c>topK</c> highest predictions of each sample as positive; null for all.</param>
    /// <param name="classId">Count only this class (an index on the last axis); null for all.</param>
    /// <param name="name">Default <c>"precision"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside [0, 1], a non-positive <paramref name="topK"/> or a negative <paramref name="classId"/>.</exception>
    public Precision(double[]? thresholds = null, int? topK = null, int? classId = null, string? name = null)
        : base(thresholds, topK, classId, name ?? "precision") { }

    /// <summary>Creates the metric with one threshold.</summary>
    /// <param name="threshold">In [0, 1].</param>
    /// <param name="name">Default <c>"precision"</c>.</param>
    public Precision(double threshold, string? name = null) : this([threshold], null, null, name) { }

    private protected override double[] Other(ConfusionCounts.Batch batch) => batch.FalsePositives;
}
