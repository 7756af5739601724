using static TorchSharp.torch;

namespace SeqSharp.Callbacks;

/// <summary>
/// Stops training when a monitored value has stopped improving (Keras <c>EarlyStopping</c>).
/// </summary>
/// <remarks>
/// <para>At each epoch end (from <see cref="StartFromEpoch"/> on), the monitored value improves when
/// it beats the best so far by more than <see cref="MinDelta"/> (the first value always does). Each
/// epoch without improvement adds one to <see cref="Wait"/>; an improvement that also beats
/// <see cref="Baseline"/> (when given) resets it to 0. Once <c>Wait &gt;= Patience</c> (and the epoch is
/// not the first), <c>Model.StopTraining</c> is set and the current epoch is the last.</para>
/// <para>With <see cref="RestoreBestWeights"/>, the weights of the best epoch are kept in memory and
/// put back at the end of training, whether it stopped early or ran all its epochs.</para>
/// <para>A monitored name missing from the logs writes a warning (listing the available names)
/// and the epoch is skipped, as in Keras.</para>
/// </remarks>
/// <example>
/// <code>
/// model.Fit(x, y, epochs: 100, validationSplit: 0.2,
///     callbacks: [new EarlyStopping(monitor: "val_loss", patience: 3, restoreBestWeights: true)]);
/// </code>
/// </example>
public sealed class EarlyStopping : Callback
{
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);
    private List<Tensor>? _bestWeights;
    private bool? _minimize;

    /// <summary>Creates the callback.</summary>
    /// <param name="monitor">The logged value to watch. Default <c>"val_loss"</c>.</param>
    /// <param name="minDelta">The change that counts as an improvement (its absolute value is used). Default 0.</param>
    /// <param name="patience">Epochs without improvement after which training stops, non-negative. Default 0.</param>
    /// <param name="verbose">0 silent, 1 a message when stopping and when restoring weights. Default 0.</param>
    /// <param name="mode"><c>"min"</c>, <c>"max"</c>, or <c>"auto"</c> (from the name: min for losses, the metric's direction otherwise). Default <c>"auto"</c>.</param>
    /// <param name="baseline">A value to beat: until an epoch beats it, <see cref="Wait"/> is not reset. Default none.</param>
    /// <param name="restoreBestWeights">Restore the weights of the best epoch when training ends. Default false.</param>
    /// <param name="startFromEpoch">Epochs to skip before monitoring (a warm-up), non-negative. Default 0.</param>
    /// <exception cref="ArgumentException">An empty monitor or an unknown mode.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative patience, verbose or startFromEpoch, or a non-finite minDelta or baseline.</exception>
    public EarlyStopping(string monitor = "val_loss", double minDelta = 0, int patience = 0, int verbose = 0, string mode = "auto",
        double? baseline = null, bool restoreBestWeights = false, int startFromEpoch = 0)
    {
        Monitor = MonitorMode.CheckMonitor(monitor);
        if (!double.IsFinite(minDelta))
            throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, $"Expected a finite minDelta. Received: minDelta={minDelta}.");
        if (patience < 0)
            throw new ArgumentOutOfRangeException(nameof(patience), patience, $"Expected patience >= 0. Received: patience={patience}.");
        if (verbose < 0)
            throw new ArgumentOutOfRangeException(nameof(verbose), verbose, $"Expected verbose 0 or 1. Received: verbose={verbose}.");
        if (baseline is double b && !double.IsFinite(b))
            throw new ArgumentOutOfRangeException(nameof(baseline), baseline, $"Expected a finite baseline or none. Received: baseline={b}.");
        if (startFromEpoch < 0)
            throw new ArgumentOutOfRangeException(nameof(startFromEpoch), startFromEpoch, $"Expected startFromEpoch >= 0. Received: startFromEpoch={startFromEpoch}.");
        MinDelta = Math.Abs(minDelta);
        Patience = patience;
        Verbose = verbose;
        Mode = MonitorMode.Check(mode, nameof(EarlyStopping));
        Baseline = baseline;
        RestoreBestWeights = restoreBestWeights;
        StartFromEpoch = startFromEpoch;
    }

    /// <summary>The logged value watched.</summary>
    public string Monitor { get; }

    /// <summary>The smallest change that counts as an improvement (non-negative).</summary>
    public double MinDelta { get; }

    /// <summary>Epochs without improvement after which training stops.</summary>
    public int Patience { get; }

    /// <summary>0 silent, 1 messages.</summary>
    public int Verbose { get; }

    /// <summary><c>"auto"</c>, <c>"min"</c> or <c>"max"</c>.</summary>
    public string Mode { get; }

    /// <summary>The value to beat before <see cref="Wait"/> resets, or null.</summary>
    public double? Baseline { get; }

    /// <summary>Whether the best epoch's weights are restored when training ends.</summary>
    public bool RestoreBestWeights { get; }

    /// <summary>Epochs skipped before monitoring starts.</summary>
    public int StartFromEpoch { get; }

    /// <summary>Epochs counted since the last improvement (reset when an improvement also beats the baseline).</summary>
    public int Wait { get; private set; }

    /// <summary>The best monitored value so far in this <c>Fit</c>, or null before the first.</summary>
    public double? Best { get; private set; }

    /// <summary>The 0-based epoch at which training was stopped; 0 when it was not (as Keras's <c>stopped_epoch</c>).</summary>
    public int StoppedEpoch { get; private set; }

    /// <summary>The 0-based epoch of the best value (0 before any).</summary>
    public int BestEpoch { get; private set; }

    /// <summary>Where messages go (<c>verbose: 1</c>); the console by default.</summary>
    public TextWriter Output { get; set; } = Console.Out;

    /// <summary>
    /// Where warnings go (each distinct one once per callback, like Python's warnings). Null, the default: the model's logger
    /// (<see cref="Model.LoggerFactory"/>, else <see cref="SeqSharpLogging.LoggerFactory"/>), category
    /// <c>SeqSharp.Callbacks.EarlyStopping</c>, event 110.
    /// </summary>
    public TextWriter? Warnings { get; set; }

    /// <inheritdoc />
    public override void OnTrainBegin(IDictionary<string, double> logs)
    {
        Wait = 0;
        StoppedEpoch = 0;
        Best = null;
        BestEpoch = 0;
        _minimize = null;
        ReplaceBestWeights(null);
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        _minimize ??= MonitorMode.Minimize(Mode, Monitor, Model, nameof(EarlyStopping));
        if (!logs.TryGetValue(Monitor, out double current))
        {
            Warn($"Early stopping conditioned on metric `{Monitor}` which is not available. Available metrics are: {string.Join(",", logs.Keys)}");
            return;
        }
        if (epoch < StartFromEpoch)
            return;
        if (RestoreBestWeights && _bestWeights is null)
        {
            // If best weights were never set, the current weights are the best.
            ReplaceBestWeights(SnapshotWeights());
            BestEpoch = epoch;
        }

        Wait++;
        if (IsImprovement(current, Best))
        {
            Best = current;
            BestEpoch = epoch;
            if (RestoreBestWeights)
                ReplaceBestWeights(SnapshotWeights());
            if (Baseline is null || IsImprovement(current, Baseline))
                Wait = 0;
            return;
        }
        if (Wait >= Patience && epoch > 0)
        {
            StoppedEpoch = epoch;
            RequireModel().StopTraining = true;
        }
    }

    /// <inheritdoc />
    public override void OnTrainEnd(IDictionary<string, double> logs)
    {
        if (StoppedEpoch > 0 && Verbose > 0)
            Output.WriteLine($"Epoch {StoppedEpoch + 1}: early stopping");
        if (RestoreBestWeights && _bestWeights is not null)
        {
            if (Verbose > 0)
                Output.WriteLine($"Restoring model weights from the end of the best epoch: {BestEpoch + 1}.");
            RequireModel().SetWeights(_bestWeights);
        }
    }

    private bool IsImprovement(double value, double? reference)
    {
        if (reference is not double r)
            return true;
        return _minimize == true ? value + MinDelta < r : value - MinDelta > r;
    }

    private List<Tensor> SnapshotWeights() => RequireModel().GetWeights().Select(w => w.DetachFromDisposeScope()).ToList();

    private void ReplaceBestWeights(List<Tensor>? weights)
    {
        foreach (var w in _bestWeights ?? [])
            w.Dispose();
        _bestWeights = weights;
    }

    private Model RequireModel() => Model ?? throw new InvalidOperationException("EarlyStopping has no model: it is set by Fit (or SetModel).");

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
