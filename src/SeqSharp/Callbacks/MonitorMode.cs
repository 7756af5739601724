using SeqSharp.Metrics;

namespace SeqSharp.Callbacks;

/// <summary>
/// How EarlyStopping and ModelCheckpoint decide whether a smaller or a larger monitored value is
/// better (Keras <c>MonitorCallback._set_monitor_op</c>).
/// </summary>
internal static class MonitorMode
{
    private static readonly string[] Modes = ["auto", "min", "max"];

    /// <summary>Returns the mode, or throws when it is not <c>auto</c>, <c>min</c> or <c>max</c>.</summary>
    /// <exception cref="ArgumentException">Any other mode.</exception>
    public static string Check(string mode, string callback)
    {
        ArgumentNullException.ThrowIfNull(mode);
        return Modes.Contains(mode)
            ? mode
            : throw new ArgumentException($"{callback} mode must be one of 'auto', 'min', 'max'. Received: mode='{mode}'.", nameof(mode));
    }

    /// <summary>Checks that a monitor name is not empty.</summary>
    /// <exception cref="ArgumentException">An empty or blank name.</exception>
    public static string CheckMonitor(string monitor)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        return string.IsNullOrWhiteSpace(monitor)
            ? throw new ArgumentException($"Expected the name of a logged value to monitor, such as 'val_loss'. Received: monitor='{monitor}'.", nameof(monitor))
            : monitor;
    }

    /// <summary>
    /// Whether lower values are better: <c>min</c> and <c>max</c> say so; <c>auto</c> picks min for
    /// <c>loss</c>/<c>val_loss</c>, else follows the direction of the compiled metric of that name
    /// (up for accuracies and R², down for errors and crossentropies).
    /// </summary>
    /// <exception cref="InvalidOperationException"><c>auto</c> and no known direction for the monitored name.</exception>
    public static bool Minimize(string mode, string monitor, Model? model, string callback)
    {
        if (mode == "min")
            return true;
        if (mode == "max")
            return false;
        string name = monitor.StartsWith("val_", StringComparison.Ordinal) ? monitor[4..] : monitor;
        bool? minimize = name == "loss" ? true : null;
        foreach (var metric in model?.Metrics ?? [])
        {
            if (metric.Name == name && Direction(metric) is bool down)
                minimize = down;
        }
        return minimize ?? throw new InvalidOperationException(
            $"{callback} callback received monitor={monitor}, but SeqSharp isn't able to automatically determine whether that metric should be " +
            "maximized or minimized. Pass mode: \"max\" in order to monitor based on the highest metric value, or pass mode: \"min\" in order to use the lowest value.");
    }

    /// <summary>Keras's <c>_direction</c> of a metric: true for "down", false for "up", null when it has none (Mean, custom wrappers).</summary>
    private static bool? Direction(Metric metric) => metric switch
    {
        AutoAccuracy or BinaryAccuracy or CategoricalAccuracy or SparseCategoricalAccuracy or TopKCategoricalAccuracy or R2Score => false,
        MeanSquaredError or MeanAbsoluteError or MeanAbsolutePercentageError or MeanSquaredLogarithmicError or RootMeanSquaredError
            or LogCoshError or Metrics.BinaryCrossentropy or Metrics.CategoricalCrossentropy or Metrics.SparseCategoricalCrossentropy => true,
        _ => null,
    };
}
