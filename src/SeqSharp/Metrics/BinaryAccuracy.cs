using static TorchSharp.torch;

namespace SeqSharp.Metrics;

/// <summary>
/// How often <c>y_pred &gt; threshold</c> equals the 0/1 label, over every value since the last
/// reset (Keras <c>keras.metrics.BinaryAccuracy</c>).
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "binary_crossentropy", metrics: [new BinaryAccuracy(threshold: 0.7)]);
/// </code>
/// </example>
public sealed class BinaryAccuracy : MeanMetricWrapper
{
    /// <summary>Creates the metric.</summary>
    /// <param name="threshold">Predictions above it count as 1; in (0, 1), default 0.5.</param>
    /// <param name="name">Default <c>"binary_accuracy"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threshold"/> outside (0, 1).</exception>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public BinaryAccuracy(double threshold = 0.5, string? name = null)
        : base(Function(CheckThreshold(threshold), name ?? "binary_accuracy"), name ?? "binary_accuracy")
    {
        Threshold = threshold;
    }

    /// <summary>Predictions above it count as 1.</summary>
    public double Threshold { get; }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["threshold"] = Threshold;
        return config;
    }

    private static double CheckThreshold(double threshold) =>
        threshold > 0 && threshold < 1
            ? threshold
            : throw new ArgumentOutOfRangeException(nameof(threshold), threshold, $"Expected a threshold in (0, 1). Received: threshold={threshold}.");

    private static Func<Tensor, Tensor, Tensor> Function(double threshold, string name) =>
        (t, p) => AccuracyFunctions.Binary(t, p, threshold, $"Metric '{name}'");
}
