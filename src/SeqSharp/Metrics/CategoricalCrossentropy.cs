namespace SeqSharp.Metrics;

/// <summary>
/// The categorical crossentropy for one-hot targets (see <see cref="Losses.CategoricalCrossentropy"/>),
/// averaged over every sample since the last reset (Keras <c>keras.metrics.CategoricalCrossentropy</c>).
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "categorical_crossentropy", metrics: ["categorical_crossentropy"]);
/// </code>
/// </example>
public sealed class CategoricalCrossentropy : MeanMetricWrapper
{
    /// <summary>Creates the metric.</summary>
    /// <param name="fromLogits">Whether <c>y_pred</c> holds logits rather than probabilities.</param>
    /// <param name="labelSmoothing">In [0, 1]; 0 for none.</param>
    /// <param name="axis">The class axis; default the last.</param>
    /// <param name="name">Default <c>"categorical_crossentropy"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> outside [0, 1].</exception>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public CategoricalCrossentropy(bool fromLogits = false, double labelSmoothing = 0.0, int axis = -1, string? name = null)
        : base(n => new Losses.CategoricalCrossentropy(fromLogits, labelSmoothing, axis, name: n), name ?? "categorical_crossentropy") { }
}
