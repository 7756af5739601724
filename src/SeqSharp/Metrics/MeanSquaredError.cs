namespace SeqSharp.Metrics;

/// <summary>
/// The mean squared error <c>mean((y_true - y_pred)², axis=-1)</c>, averaged over every sample since the last reset (Keras <c>keras.metrics.MeanSquaredError</c>).
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "mse", metrics: [new MeanSquaredError()]);   // logged as "mean_squared_error"
/// </code>
/// </example>
public sealed class MeanSquaredError : MeanMetricWrapper
{
    /// <summary>Creates the metric.</summary>
    /// <param name="name">Default <c>"mean_squared_error"</c>.</param>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public MeanSquaredError(string? name = null) : base(n => new Losses.MeanSquaredError(name: n), name ?? "mean_squared_error") { }
}
