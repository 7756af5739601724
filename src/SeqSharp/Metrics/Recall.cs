namespace SeqSharp.Metrics;

/// <summary>
/// Recall, <c>TP / (TP + FN)</c> over everything since the last reset (Keras 3
/// <c>keras.metrics.Recall</c>): a prediction above the threshold (default 0.5) counts as positive,
/// a non-zero label as positive. Sample weights weight the counts; 0 when there was no positive label.
/// </summary>
/// <remarks>
/// With several thresholds, <see cref="Metric.Result"/> is the first one's value,
/// <see cref="ThresholdMetric.ResultPerThreshold"/> gives all, and training logs hold
/// <c>recall[0]</c>, <c>recall[1]</c>, ... (Keras logs one array).
/// </remarks>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "binary_crossentropy", metrics: ["precision", "recall"]);
/// </code>
/// </example>
public sealed class Recall : ThresholdMetric
{
    /// <summary>Creates the metric.</summary>
    /// <param name="thresholds">Thresholds in [0, 1]; null for 0.5 (or, with <paramref name="topK"/>, -1e10: the top k are positive).</param>
    /// <param name="topK">Count only the <c>topK</c> highest predictions of each sample as positive; null for all.</param>
    /// <param name="classId">Count only this class (an index on the last axis); null for all.</param>
    /// <param name="name">Default <c>"recall"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside [0, 1], a non-positive <paramref name="topK"/> or a negative <paramref name="classId"/>.</exception>
    public Recall(double[]? thresholds = null, int? topK = null, int? classId = null, string? name = null)
        : base(thresholds, topK, classId, name ?? "recall") { }

    /// <summary>Creates the metric with one threshold.</summary>
    /// <param name="threshold">In [0, 1].</param>
    /// <param name="name">Default <c>"recall"</c>.</param>
    public Recall(double threshold, string? name = null) : this([threshold], null, null, name) { }

    private protected override double[] Other(ConfusionCounts.Batch batch) => batch.FalseNegatives;
}
