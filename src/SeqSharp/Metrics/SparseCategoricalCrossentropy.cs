namespace SeqSharp.Metrics;

/// <summary>
/// The categorical crossentropy for integer labels (see <see cref="Losses.SparseCategoricalCrossentropy"/>),
/// averaged over every sample since the last reset (Keras <c>keras.metrics.SparseCategoricalCrossentropy</c>).
/// With <c>ignoreClass</c>, values of that label are left out of the mean.
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "sparse_categorical_crossentropy", metrics: ["sparse_categorical_crossentropy"]);
/// </code>
/// </example>
public sealed class SparseCategoricalCrossentropy : MeanMetricWrapper
{
    /// <summary>Creates the metric.</summary>
    /// <param name="fromLogits">Whether <c>y_pred</c> holds logits rather than probabilities.</param>
    /// <param name="ignoreClass">A label to leave out, or null.</param>
    /// <param name="name">Default <c>"sparse_categorical_crossentropy"</c>.</param>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public SparseCategoricalCrossentropy(bool fromLogits = false, int? ignoreClass = null, string? name = null)
        : base(n => new Losses.SparseCategoricalCrossentropy(fromLogits, ignoreClass, name: n), name ?? "sparse_categorical_crossentropy") { }
}
