namespace SeqSharp.Callbacks;

/// <summary>
/// Reduces the optimizer's learning rate when a monitored value has stopped improving
/// (Keras <c>ReduceLROnPlateau</c>).
/// </summary>
/// <remarks>
/// <para>At each epoch end the current learning rate is added to the logs as <c>learning_rate</c>
/// (so History and CSVLogger record it), then the monitored value is compared with the best so far:
/// an improvement beats it by more than <see cref="MinDelta"/> and resets the wait; otherwise, outside
/// a cooldown, the wait grows, and when it reaches <see cref="Patience"/> the rate becomes
/// <c>max(rate · factor, minLr)</c> (if it is above <see cref="MinLr"/>), followed by
/// <see cref="Cooldown"/> epochs in which the wait stays 0.</para>
/// <para><c>mode: "auto"</c> maximises when the monitored name contains <c>acc</c> and minimises
/// otherwise, as in Keras. The optimizer must have a settable (constant) learning rate.</para>
/// </remarks>
/// <example>
/// <code>
/// model.Fit(x, y, epochs: 100, validationSplit: 0.2,
///     callbacks: [new ReduceLROnPlateau(monitor: "val_loss", factor: 0.2, patience: 5, minLr: 1e-5)]);
/// </code>
/// </example>
public sealed class ReduceLROnPlateau : Callback
{
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);
    private readonly bool _minimize;

    /// <summary>Creates the callback.</summary>
    /// <param name="monitor">The logged value to watch. Default <c>"val_loss"</c>.</param>
    /// <param name="factor">The rate is multiplied by this, in [0, 1). Default 0.1.</param>
    /// <param name="patience">Epochs without improvement before reducing, non-negative. Default 10.</param>
    /// <param name="verbose">0 silent, 1 a message at each reduction. Default 0.</param>
    /// <param name="mode"><c>"min"</c>, <c>"max"</c> or <c>"auto"</c>. Default <c>"auto"</c>.</param>
    /// <param name="minDelta">How much better than the best a value must be to count, non-negative. Default 1e-4.</param>
    /// <param name="cooldown">Epochs after a reduction during which the wait stays 0, non-negative. Default 0.</param>
    /// <param name="minLr">The lowest rate, non-negative. Default 0.</param>
    /// <exception cref="ArgumentException">An empty monitor or an unknown mode.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A factor outside [0, 1), or a negative (or non-finite) patience, verbose, minDelta, cooldown or minLr.</exception>
    public ReduceLROnPlateau(string monitor = "val_loss", double factor = 0.1, int patience = 10, int verbose = 0, string mode = "auto",
        double minDelta = 1e-4, int cooldown = 0, double minLr = 0.0)
    {
        Monitor = MonitorMode.CheckMonitor(monitor);
        if (factor >= 1.0)
            throw new ArgumentOutOfRangeException(nameof(factor), factor, $"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}");
        if (!(factor >= 0))
            throw new ArgumentOutOfRangeException(nameof(factor), factor, $"Expected a factor in [0, 1). Received factor={factor}");
        if (patience < 0)
            throw new ArgumentOutOfRangeException(nameof(patience), patience, $"Expected patience >= 0. Received: patience={patience}.");
        if (verbose < 0)
            throw new ArgumentOutOfRangeException(nameof(verbose), verbose, $"Expected verbose 0 or 1. Received: verbose={verbose}.");
        if (!(minDelta >= 0 && double.IsFinite(minDelta)))
            throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, $"Expected a finite minDelta >= 0. Received: minDelta={minDelta}.");
        if (cooldown < 0)
            throw new ArgumentOutOfRangeException(nameof(cooldown), cooldown, $"Expected cooldown >= 0. Received: cooldown={cooldown}.");
        if (!(minLr >= 0 && double.IsFinite(minLr)))
            throw new ArgumentOutOfRangeException(nameof(minLr), minLr, $"Expected a finite minLr >= 0. Received: minLr={minLr}.");
        Factor = factor;
        Patience = patience;
        Verbose = verbose;
        Mode = MonitorMode.Check(mode, nameof(ReduceLROnPlateau));
        MinDelta = minDelta;
        Cooldown = cooldown;
        MinLr = minLr;
        _minimize = Mode == "min" || (Mode == "auto" && !Monitor.Contains("acc", StringComparison.Ordinal));
        Reset();
    }

    /// <summary>The logged value watched.</summary>
    public string Monitor { get; }

    /// <summary>The multiplier applied at each reduction.</summary>
    public double Factor { get; }

    /// <summary>Epochs without improvement before reducing.</summary>
    public int Patience { get; }

    /// <summary>0 silent, 1 messages.</summary>
    public int Verbose { get; }

    /// <summary><c>"auto"</c>, <c>"min"</c> or <c>"max"</c>.</summary>
    public string Mode { get; }

    /// <summary>The margin an improvement needs.</summary>
    public double MinDelta { get; }

    /// <summary>Epochs after a reduction during which the wait stays 0.</summary>
    public int Cooldown { get; }

    /// <summary>The lowest learning rate.</summary>
    public double MinLr { get; }

    /// <summary>Epochs counted without improvement.</summary>
    public int Wait { get; private set; }

    /// <summary>Epochs of cooldown left.</summary>
    public int CooldownCounter { get; private set; }

    /// <summary>The best monitored value so far (±infinity before the first).</summary>
    public double Best { get; private set; }

    /// <summary>Where messages go (<c>verbose: 1</c>); the console by default.</summary>
    public TextWriter Output { get; set; } = Console.Out;

    /// <summary>
    /// Where warnings go (each distinct one once). Null, the default: the model's logger
    /// (<see cref="Model.LoggerFactory"/>, else <see cref="SeqSharpLogging.LoggerFactory"/>), category
    /// <c>SeqSharp.Callbacks.ReduceLROnPlateau</c>, event 110.
    /// </summary>
    public TextWriter? Warnings { get; set; }

    /// <inheritdoc />
    public override void OnTrainBegin(IDictionary<string, double> logs) => Reset();

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        var optimizer = Model?.Optimizer
            ?? throw new InvalidOperationException("ReduceLROnPlateau needs a compiled model: call Compile() before Fit().");
        logs["learning_rate"] = optimizer.LearningRate;
        if (!logs.TryGetValue(Monitor, out double current))
        {
            Warn($"Learning rate reduction is conditioned on metric `{Monitor}` which is not available. Available metrics are: {string.Join(",", logs.Keys)}.");
            return;
        }
        if (CooldownCounter > 0)
        {
            CooldownCounter--;
            Wait = 0;
        }
        if (_minimize ? current < Best - MinDelta : current > Best + MinDelta)
        {
            Best = current;
            Wait = 0;
        }
        else if (CooldownCounter <= 0)
        {
            Wait++;
            if (Wait >= Patience)
            {
                double oldLr = optimizer.LearningRate;
                if (oldLr > (float)MinLr)
                {
                    double newLr = Math.Max(oldLr * Factor, MinLr);
                    optimizer.LearningRate = newLr;
                    if (Verbose > 0)
                        Output.WriteLine($"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {PythonFormat.Repr(newLr)}.");
                    CooldownCounter = Cooldown;
                    Wait = 0;
                }
            }
        }
    }

    private void Reset()
    {
        Best = _minimize ? double.PositiveInfinity : double.NegativeInfinity;
        CooldownCounter = 0;
        Wait = 0;
    }

    private void Warn(string message)
    {
        if (!_warned.Add(message))
            return;
        if (Warnings is not null)
            Warnings.WriteLine("Warning: " + message);
        else
            LogWarning(message);
    }
}
