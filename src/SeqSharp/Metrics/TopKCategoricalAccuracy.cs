using static TorchSharp.torch;

namespace SeqSharp.Metrics;

/// <summary>
/// How often the one-hot label's class is among the <see cref="K"/> largest predictions, over every
/// sample since the last reset (Keras <c>keras.metrics.TopKCategoricalAccuracy</c>). A class tied
/// with the k-th largest counts as in.
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "categorical_crossentropy", metrics: [new TopKCategoricalAccuracy(k: 3)]);
/// </code>
/// </example>
public sealed class TopKCategoricalAccuracy : MeanMetricWrapper
{
    /// <summary>Creates the metric.</summary>
    /// <param name="k">How many of the largest predictions to look at; positive, default 5.</param>
    /// <param name="name">Default <c>"top_k_categorical_accuracy"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is not positive.</exception>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public TopKCategoricalAccuracy(int k = 5, string? name = null)
        : base(Function(CheckK(k), name ?? "top_k_categorical_accuracy"), name ?? "top_k_categorical_accuracy")
    {
        K = k;
    }

    /// <summary>How many of the largest predictions count.</summary>
    public int K { get; }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["k"] = K;
        return config;
    }

    private static int CheckK(int k) =>
        k > 0 ? k : throw new ArgumentOutOfRangeException(nameof(k), k, $"Expected a positive k. Received: k={k}.");

    private static Func<Tensor, Tensor, Tensor> Function(int k, string name) =>
        (t, p) => AccuracyFunctions.TopKCategorical(t, p, k, $"Metric '{name}'");
}
