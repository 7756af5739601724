using SeqSharp.Losses;
using static TorchSharp.torch;

namespace SeqSharp.Metrics;

/// <summary>
/// The running mean of a function of <c>(y_true, y_pred)</c> that returns per-sample values
/// (Keras <c>keras.metrics.MeanMetricWrapper</c>); most named metrics are one of these.
/// </summary>
/// <example>
/// <code>
/// var maxError = new MeanMetricWrapper((t, p) => (t - p).abs().amax([-1]), name: "max_abs_error");
/// </code>
/// </example>
public class MeanMetricWrapper : Mean
{
    private readonly Loss? _loss;

    /// <summary>Creates the metric.</summary>
    /// <param name="fn">Per-sample values of shape <c>(batch, ...)</c> from <c>(y_true, y_pred)</c>.</param>
    /// <param name="name">Default <c>"mean_metric_wrapper"</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fn"/> is null.</exception>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public MeanMetricWrapper(Func<Tensor, Tensor, Tensor> fn, string? name = null) : base(name ?? "mean_metric_wrapper")
    {
        ArgumentNullException.ThrowIfNull(fn);
        Fn = fn;
    }

    /// <summary>
    /// Creates the metric around a Keras metric or loss function named by its Keras name, as Keras's
    /// <c>MeanMetricWrapper(fn=...)</c> config names it: <c>"mean_absolute_error"</c>,
    /// <c>"binary_accuracy"</c>, <c>"huber"</c>, ... Unlike a delegate, such a metric can be saved.
    /// </summary>
    /// <param name="fn">A name <see cref="Metric.Get"/> or <see cref="Loss.Get"/> knows.</param>
    /// <param name="name">Default <c>"mean_metric_wrapper"</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fn"/> is null.</exception>
    /// <exception cref="ArgumentException">An unknown function name, or an empty name.</exception>
    /// <example>
    /// <code>
    /// var mae = new MeanMetricWrapper("mean_absolute_error", name: "mae");
    /// </code>
    /// </example>
    public MeanMetricWrapper(string fn, string? name = null) : base(name ?? "mean_metric_wrapper")
    {
        if (fn is null)
            throw new ArgumentNullException(nameof(fn),
                $"MeanMetricWrapper '{Name}' needs the name of a Keras metric or loss function as 'fn'. Received: fn=null (a config of a metric around a custom delegate, which cannot be rebuilt).");
        Fn = Resolve(fn);
        FunctionName = fn;
    }

    /// <summary>For metrics whose values are a loss's per-sample values (including its mask).</summary>
    private protected MeanMetricWrapper(Func<string, Loss> loss, string name) : base(name)
    {
        _loss = loss(Name);
        _loss.Subject = "Metric";
        Fn = _loss.Compute;
    }

    /// <summary>The wrapped function.</summary>
    public Func<Tensor, Tensor, Tensor> Fn { get; }

    /// <summary>The Keras name of the wrapped function, when it was given by name; null for a delegate.</summary>
    public string? FunctionName { get; }

    /// <summary>
    /// Whether the wrapped delegate is a named user function (<see cref="Metric.FromFunction"/>), which
    /// a model file names as Keras names a Python function.
    /// </summary>
    internal bool SavedByName { get; init; }

    /// <inheritdoc />
    internal override void CheckTargets(Tensor y, long[] outputShape, string yName) => _loss?.CheckTargets(y, outputShape, yName);

    /// <inheritdoc />
    public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        if (_loss is null)
        {
            UpdateValues(Fn(yTrue, yPred), sampleWeight);
            return;
        }
        var (values, mask) = _loss.ComputeValuesAndMask(yTrue, yPred);
        if (mask is not null)
        {
            // Keras's apply_mask with reduction "sum": masked-out values weigh 0.
            var m = mask.to_type(ScalarType.Float64);
            if (sampleWeight is null)
                sampleWeight = m;
            else
            {
                var (mm, w) = LossInputs.SqueezeOrExpandToSameRank(m, sampleWeight.to_type(ScalarType.Float64).to(m.device));
                sampleWeight = LossReduction.AlignToPrefix(w, mm, Who) * mm;
            }
        }
        UpdateValues(values, sampleWeight);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        if (_loss is not null)
            foreach (var (key, value) in _loss.GetConfig().Where(kv => kv.Key is not ("name" or "reduction")))
                config[key] = value;
        // As Keras: only the wrapper itself names its function (its subclasses are their own class);
        // a delegate has no name, so its config cannot rebuild it (FromConfig then says 'fn' is missing).
        if (GetType() == typeof(MeanMetricWrapper) && FunctionName is not null)
            config["fn"] = FunctionName;
        return config;
    }

    private static Func<Tensor, Tensor, Tensor> Resolve(string fn)
    {
        try
        {
            return Metric.Get(fn) is MeanMetricWrapper wrapper ? wrapper.Fn : Loss.Get(fn).Compute;
        }
        catch (ArgumentException)
        {
            try
            {
                return Loss.Get(fn).Compute;
            }
            catch (ArgumentException)
            {
                throw new ArgumentException($"Unknown metric function: '{fn}'. Expected the Keras name of a metric or loss function, such as \"mean_absolute_error\" or \"binary_accuracy\".", nameof(fn));
            }
        }
    }
}
