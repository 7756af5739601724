namespace SeqSharp.Metrics;

/// <summary>
/// The mean absolute percentage error <c>100 · mean(|y_true - y_pred| / max(|y_true|, 1e-7), axis=-1)</c>, averaged over every sample since the last reset (Keras <c>keras.metrics.MeanAbsolutePercentageError</c>).
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "mse", metrics: [new MeanAbsolutePercentageError()]);   // logged as "mean_absolute_percentage_error"
/// </code>
/// </example>
public sealed class MeanAbsolutePercentageError : MeanMetricWrapper
{
    /// <summary>Creates the metric.</summary>
    /// <param name="name">Default <c>"mean_absolute_percentage_error"</c>.</param>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public MeanAbsolutePercentageError(string? name = null) : base(n => new Losses.MeanAbsolutePercentageError(name: n), name ?? "mean_absolute_percentage_error") { }
}
