using static TorchSharp.torch;

namespace SeqSharp.Metrics;

/// <summary>
/// The base of every metric (Keras <c>keras.metrics.Metric</c>): a running statistic that
/// <see cref="UpdateState"/> feeds batch by batch and <see cref="Result"/> reads, exact over
/// everything seen since the last <see cref="ResetState"/> (an epoch in <c>Fit</c>), not an average
/// of batch averages. A string converts implicitly to the metric of that Keras name, so
/// <c>metrics: ["mae"]</c> works.
/// </summary>
/// <remarks>
/// Metrics keep their running sums in C# doubles and update them without gradients, so memory
/// stays flat however long training runs.
/// </remarks>
/// <example>
/// <code>
/// Metric mae = "mae";
/// foreach (var (x, y) in batches)
///     mae.UpdateState(y, model.Predict(x));
/// double epochMae = mae.Result();
/// mae.ResetState();
/// </code>
/// </example>
public abstract class Metric
{
    /// <summary>Sets the name.</summary>
    /// <param name="name">The name under which the value is logged, e.g. <c>"mae"</c>.</param>
    /// <exception cref="ArgumentException">An empty name.</exception>
    protected Metric(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException($"Expected a non-empty metric name. Received: name={(name is null ? "null" : $"\"{name}\"")}.", nameof(name));
        Name = name;
    }

    /// <summary>
    /// The name under which the value is logged: the string given to <see cref="Get"/> (Keras logs
    /// <c>"mae"</c> for <c>metrics=["mae"]</c>), or the class's Keras default name.
    /// </summary>
    public string Name { get; }

    /// <summary>The Keras class name, e.g. <c>"MeanAbsoluteError"</c>.</summary>
    public virtual string ClassName => GetType().Name;

    /// <summary>Adds one batch to the running statistic.</summary>
    /// <param name="yTrue">Targets, e.g. <c>(batch, timesteps, 1)</c>.</param>
    /// <param name="yPred">Predictions.</param>
    /// <param name="sampleWeight">Optional weights: a scalar, <c>(batch,)</c>, or a prefix of the per-sample values' shape.</param>
    /// <exception cref="ArgumentException">Incompatible shapes; the message gives them.</exception>
    public abstract void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null);

    /// <summary>Checks a whole target set before training starts (see <c>Loss.CheckTargets</c>); nothing by default.</summary>
    internal virtual void CheckTargets(Tensor y, long[] outputShape, string yName) { }

    /// <summary>The metric over everything since the last reset (0 before any update, like Keras's <c>divide_no_nan</c>).</summary>
    public abstract double Result();

    /// <summary>
    /// What training logs record for this metric: its name and <see cref="Result"/>, or, for a metric
    /// with one value per class or threshold, <c>name[0]</c>, <c>name[1]</c>, ...
    /// </summary>
    internal virtual IEnumerable<(string Key, double Value)> LogEntries()
    {
        yield return (Name, Result());
    }

    /// <summary>Forgets everything seen so far.</summary>
    public abstract void ResetState();

    /// <summary>
    /// The running statistic as numbers that add up over several processes (Keras's metric variables,
    /// whose aggregation is a sum), for data-parallel training; null when the metric has none yet or
    /// cannot be summed (its result is then rank 0's own).
    /// </summary>
    protected internal virtual double[]? SummableState() => null;

    /// <summary>Replaces the running statistic with <paramref name="state"/>, summed over processes (see <see cref="SummableState"/>).</summary>
    /// <exception cref="NotSupportedException">The metric has no summable state.</exception>
    protected internal virtual void LoadSummableState(double[] state) =>
        throw new NotSupportedException($"Metric '{Name}' ({ClassName}) has no running totals that can be summed over processes.");

    /// <summary>The constructor arguments by their Keras names: <c>name</c> and the metric's own.</summary>
    public virtual Dictionary<string, object?> GetConfig() => new() { ["name"] = Name };

    /// <summary>
    /// Rebuilds a metric from its Keras class name and config (what <see cref="GetConfig"/> returns,
    /// or Keras's <c>metric.get_config()</c> read from JSON): Keras's <c>cls(**config)</c>. Keras's
    /// <c>dtype</c> key is accepted when null or <c>"float32"</c> (SeqSharp keeps running totals in
    /// doubles either way).
    /// </summary>
    /// <param name="className">The Keras class name, e.g. <c>"MeanAbsoluteError"</c>, <c>"MeanMetricWrapper"</c>.</param>
    /// <param name="config">The config; values may be CLR values or <c>JsonElement</c>s.</param>
    /// <returns>A new metric with an empty state.</returns>
    /// <exception cref="ArgumentException">An unknown class (the message lists the known ones), an unknown key, or an invalid value.</exception>
    /// <exception cref="NotSupportedException">A <c>dtype</c> other than float32.</exception>
    public static Metric FromConfig(string className, IReadOnlyDictionary<string, object?> config) =>
        Saving.ConfigActivator.Create<Metric>("Metric", className, config,
            new Saving.ConfigActivator.Ignorable("dtype", v => v is null or "float32", "null or \"float32\""));

    /// <summary>
    /// The metric with this Keras name or alias, named after the string given: <c>"mse"</c>,
    /// <c>"mae"</c>, <c>"mape"</c>, <c>"msle"</c>, <c>"rmse"</c>, <c>"r2"</c>, <c>"accuracy"</c>
    /// (resolved from the shapes on the first update), <c>"binary_accuracy"</c>,
    /// <c>"categorical_accuracy"</c>, <c>"sparse_categorical_accuracy"</c>,
    /// <c>"top_k_categorical_accuracy"</c>, the crossentropies, <c>"huber"</c>, <c>"logcosh"</c>,
    /// <c>"precision"</c>, <c>"recall"</c>, <c>"auc"</c>, <c>"f1_score"</c>, <c>"f_beta_score"</c>,
    /// their long snake-case names and Keras class names.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static Metric Get(string name) => MetricRegistry.Get(name);

    /// <summary>
    /// A named metric from a function of <c>(y_true, y_pred)</c> that returns per-sample values: their
    /// running mean over everything seen since the last reset (Keras wraps a metric function given
    /// to <c>compile</c> in <c>MeanMetricWrapper</c> the same way). Logged under <paramref name="name"/>.
    /// </summary>
    /// <remarks>
    /// <see cref="Model.Save"/> writes the metric as Keras writes a Python function, by its name,
    /// so the file loads here with <c>customObjects</c> (or <see cref="CustomObjects.Register"/>) and in
    /// Keras with <c>custom_objects={name: fn}</c>.
    /// </remarks>
    /// <param name="name">The name the file and the logs use.</param>
    /// <param name="fn">Per-sample values from <c>(y_true, y_pred)</c>.</param>
    /// <returns>A new metric with an empty state.</returns>
    /// <exception cref="ArgumentException">An empty name.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="fn"/> is null.</exception>
    /// <example>
    /// <code>
    /// var maxError = Metric.FromFunction("max_error", (t, p) => (t - p).abs().amax([-1L]));
    /// model.Compile(optimizer: "adam", loss: "mse", metrics: [maxError]);
    /// </code>
    /// </example>
    public static Metric FromFunction(string name, Func<Tensor, Tensor, Tensor> fn)
    {
        ArgumentNullException.ThrowIfNull(fn);
        return new MeanMetricWrapper(fn, name) { SavedByName = true };
    }

    /// <summary>Converts a Keras metric name (see <see cref="Get"/>).</summary>
    public static implicit operator Metric(string name) => Get(name);

    /// <summary>The prefix of messages about this metric.</summary>
    private protected string Who => $"Metric '{Name}'";
}
