using static TorchSharp.torch;

namespace SeqSharp.Metrics;

/// <summary>
/// How often the largest prediction is the integer label, over every sample (and time step) since
/// the last reset (Keras <c>keras.metrics.SparseCategoricalAccuracy</c>). Labels are
/// <c>(batch,)</c>, <c>(batch, 1)</c>, or <c>(batch, timesteps)</c> for sequence outputs.
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "sparse_categorical_crossentropy", metrics: ["sparse_categorical_accuracy"]);
/// </code>
/// </example>
public sealed class SparseCategoricalAccuracy : MeanMetricWrapper
{
    /// <summary>Creates the metric.</summary>
    /// <param name="name">Default <c>"sparse_categorical_accuracy"</c>.</param>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public SparseCategoricalAccuracy(string? name = null) : base(Function(name ?? "sparse_categorical_accuracy"), name ?? "sparse_categorical_accuracy") { }

    private static Func<Tensor, Tensor, Tensor> Function(string name) =>
        (t, p) => AccuracyFunctions.SparseCategorical(t, p, $"Metric '{name}'");
}
