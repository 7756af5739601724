using static TorchSharp.torch;

namespace SeqSharp.Metrics;

/// <summary>
/// How often the largest prediction is the one-hot label's class, over every sample (and time
/// step) since the last reset (Keras <c>keras.metrics.CategoricalAccuracy</c>). Logits work as
/// well as probabilities.
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "categorical_crossentropy", metrics: ["categorical_accuracy"]);
/// </code>
/// </example>
public sealed class CategoricalAccuracy : MeanMetricWrapper
{
    /// <summary>Creates the metric.</summary>
    /// <param name="name">Default <c>"categorical_accuracy"</c>.</param>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public CategoricalAccuracy(string? name = null) : base(Function(name ?? "categorical_accuracy"), name ?? "categorical_accuracy") { }

    private static Func<Tensor, Tensor, Tensor> Function(string name) =>
        (t, p) => AccuracyFunctions.Categorical(t, p, $"Metric '{name}'");
}
