namespace SeqSharp.Metrics;

/// <summary>
/// The logarithm of the hyperbolic cosine of the error, <c>mean(log(cosh(y_pred - y_true)), axis=-1)</c>, averaged over every sample since the last reset (Keras <c>keras.metrics.LogCoshError</c>).
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "mse", metrics: [new LogCoshError()]);   // logged as "logcosh"
/// </code>
/// </example>
public sealed class LogCoshError : MeanMetricWrapper
{
    /// <summary>Creates the metric.</summary>
    /// <param name="name">Default <c>"logcosh"</c>.</param>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public LogCoshError(string? name = null) : base(n => new Losses.LogCosh(name: n), name ?? "logcosh") { }
}
