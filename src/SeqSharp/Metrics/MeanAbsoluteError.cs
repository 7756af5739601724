namespace SeqSharp.Metrics;

/// <summary>
/// The mean absolute error <c>mean(|y_true - y_pred|, axis=-1)</c>, averaged over every sample since the last reset (Keras <c>keras.metrics.MeanAbsoluteError</c>).
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "mse", metrics: [new MeanAbsoluteError()]);   // logged as "mean_absolute_error"
/// </code>
/// </example>
public sealed class MeanAbsoluteError : MeanMetricWrapper
{
    /// <summary>Creates the metric.</summary>
    /// <param name="name">Default <c>"mean_absolute_error"</c>.</param>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public MeanAbsoluteError(string? name = null) : base(n => new Losses.MeanAbsoluteError(name: n), name ?? "mean_absolute_error") { }
}
