namespace SeqSharp.Metrics;

/// <summary>
/// The mean squared logarithmic error <c>mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))², axis=-1)</c>, averaged over every sample since the last reset (Keras <c>keras.metrics.MeanSquaredLogarithmicError</c>).
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "mse", metrics: [new MeanSquaredLogarithmicError()]);   // logged as "mean_squared_logarithmic_error"
/// </code>
/// </example>
public sealed class MeanSquaredLogarithmicError : MeanMetricWrapper
{
    /// <summary>Creates the metric.</summary>
    /// <param name="name">Default <c>"mean_squared_logarithmic_error"</c>.</param>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public MeanSquaredLogarithmicError(string? name = null) : base(n => new Losses.MeanSquaredLogarithmicError(name: n), name ?? "mean_squared_logarithmic_error") { }
}
