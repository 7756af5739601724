namespace SeqSharp.Metrics;

/// <summary>
/// The binary crossentropy (see <see cref="Losses.BinaryCrossentropy"/>), averaged over every
/// sample since the last reset (Keras <c>keras.metrics.BinaryCrossentropy</c>).
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "mse", metrics: [new BinaryCrossentropy(fromLogits: true)]);
/// </code>
/// </example>
public sealed class BinaryCrossentropy : MeanMetricWrapper
{
    /// <summary>Creates the metric.</summary>
    /// <param name="fromLogits">Whether <c>y_pred</c> holds logits rather than probabilities.</param>
    /// <param name="labelSmoothing">In [0, 1]; 0 for none.</param>
    /// <param name="name">Default <c>"binary_crossentropy"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> outside [0, 1].</exception>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public BinaryCrossentropy(bool fromLogits = false, double labelSmoothing = 0.0, string? name = null)
        : base(n => new Losses.BinaryCrossentropy(fromLogits, labelSmoothing, name: n), name ?? "binary_crossentropy") { }
}
