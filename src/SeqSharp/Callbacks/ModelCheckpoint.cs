namespace SeqSharp.Callbacks;

/// <summary>
/// Saves the model (or only its weights) during training, every epoch or every N batches, or only
/// when the monitored value improves (Keras <c>ModelCheckpoint</c>).
/// </summary>
/// <remarks>
/// <para>The file path may hold Python-style placeholders filled from the epoch (1-based, as in
/// Keras), the batch (1-based, when saving by batches) and the logs: <c>{epoch}</c>,
/// <c>{epoch:02d}</c>, <c>{val_loss:.4f}</c>, <c>{loss:.2e}</c>; <c>{{</c> and <c>}}</c> are literal braces.</para>
/// <para>With <c>saveWeightsOnly: false</c> (the default, as in Keras) the whole model is written
/// with <see cref="Model.Save"/>, a <c>.keras</c> file that <see cref="Sequential.Load"/> reopens
/// compiled and ready to continue; with <c>saveWeightsOnly: true</c> the weights and the optimizer's
/// state are written with <see cref="Model.SaveWeights"/> to a <c>.weights.h5</c> file. Either
/// way the file is replaced atomically, so a crash mid-save leaves the previous checkpoint intact.</para>
/// <para>With <c>saveBestOnly</c>, a file is written only when the monitored value beats the best so
/// far (strictly; the first value always does unless <c>initialValueThreshold</c> is given). When
/// the monitored value is missing from the logs, Keras warns and saves anyway: so does this.</para>
/// </remarks>
/// <example>
/// <code>
/// var checkpoint = new ModelCheckpoint("ckpt/best.keras", monitor: "val_loss", saveBestOnly: true);
/// model.Fit(x, y, epochs: 50, validationSplit: 0.2, callbacks: [checkpoint]);
/// var best = Sequential.Load("ckpt/best.keras");
/// </code>
/// </example>
public sealed class ModelCheckpoint : Callback
{
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);
    private bool? _minimize;
    private int _currentEpoch;
    private int _batchesSinceSave;
    private int _lastBatchSeen;

    /// <summary>Creates a checkpoint that saves at the end of every epoch.</summary>
    /// <param name="filepath">The file to write, ending in <c>.keras</c> (or <c>.weights.h5</c> with <paramref name="saveWeightsOnly"/>); may hold placeholders such as <c>{epoch:02d}</c>.</param>
    /// <param name="monitor">The logged value compared with <c>saveBestOnly</c>. Default <c>"val_loss"</c>.</param>
    /// <param name="verbose">0 silent, 1 a message at each save decision. Default 0.</param>
    /// <param name="saveBestOnly">Save only when the monitored value improves. Default false.</param>
    /// <param name="saveWeightsOnly">Save only the weights and optimizer state (<c>.weights.h5</c>) rather than the whole model (<c>.keras</c>). Default false.</param>
    /// <param name="mode"><c>"min"</c>, <c>"max"</c> or <c>"auto"</c> (from the monitored name). Default <c>"auto"</c>.</param>
    /// <param name="saveFreq">Must be <c>"epoch"</c>; use the constructor with an <c>int saveFreq</c> to save every N batches.</param>
    /// <param name="initialValueThreshold">With <c>saveBestOnly</c>, a first value to beat. Default none.</param>
    /// <exception cref="ArgumentException">
    /// An empty monitor, an unknown mode, a <c>saveFreq</c> other than <c>"epoch"</c>, or a path not ending in
    /// <c>.weights.h5</c> with <c>saveWeightsOnly</c> (or not in <c>.keras</c> without it).
    /// </exception>
    public ModelCheckpoint(string filepath, string monitor = "val_loss", int verbose = 0, bool saveBestOnly = false,
        bool saveWeightsOnly = false, string mode = "auto", string saveFreq = "epoch", double? initialValueThreshold = null)
        : this(filepath, monitor, verbose, saveBestOnly, saveWeightsOnly, mode, SaveFrequency(saveFreq), initialValueThreshold)
    {
    }

    /// <summary>Creates a checkpoint that saves every <paramref name="saveFreq"/> training batches (counted across epochs).</summary>
    /// <param name="filepath">The file to write, ending in <c>.keras</c> (or <c>.weights.h5</c> with <paramref name="saveWeightsOnly"/>); may hold <c>{epoch}</c>, <c>{batch}</c> and log placeholders.</param>
    /// <param name="saveFreq">Batches between saves, positive.</param>
    /// <param name="monitor">The logged value compared with <c>saveBestOnly</c> (a running epoch value at batch level). Default <c>"val_loss"</c>.</param>
    /// <param name="verbose">0 silent, 1 a message at each save decision. Default 0.</param>
    /// <param name="saveBestOnly">Save only when the monitored value improves. Default false.</param>
    /// <param name="saveWeightsOnly">Save only the weights and optimizer state rather than the whole model. Default false.</param>
    /// <param name="mode"><c>"min"</c>, <c>"max"</c> or <c>"auto"</c>. Default <c>"auto"</c>.</param>
    /// <param name="initialValueThreshold">With <c>saveBestOnly</c>, a first value to beat. Default none.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="saveFreq"/> is not positive.</exception>
    /// <exception cref="ArgumentException">An empty monitor, an unknown mode or a path of the wrong kind.</exception>
    public ModelCheckpoint(string filepath, int saveFreq, string monitor = "val_loss", int verbose = 0, bool saveBestOnly = false,
        bool saveWeightsOnly = false, string mode = "auto", double? initialValueThreshold = null)
        : this(filepath, monitor, verbose, saveBestOnly, saveWeightsOnly, mode,
            saveFreq > 0 ? saveFreq : throw new ArgumentOutOfRangeException(nameof(saveFreq), saveFreq,
                $"Expected saveFreq to be a positive number of batches (or \"epoch\"). Received: saveFreq={saveFreq}."),
            initialValueThreshold)
    {
    }

    private ModelCheckpoint(string filepath, string monitor, int verbose, bool saveBestOnly, bool saveWeightsOnly, string mode,
        int? saveFreqBatches, double? initialValueThreshold)
    {
        ArgumentNullException.ThrowIfNull(filepath);
        Monitor = MonitorMode.CheckMonitor(monitor);
        Mode = MonitorMode.Check(mode, nameof(ModelCheckpoint));
        if (verbose < 0)
            throw new ArgumentOutOfRangeException(nameof(verbose), verbose, $"Expected verbose 0 or 1. Received: verbose={verbose}.");
        if (initialValueThreshold is double t && double.IsNaN(t))
            throw new ArgumentOutOfRangeException(nameof(initialValueThreshold), t, "Expected a number or none. Received: initialValueThreshold=NaN.");
        if (saveWeightsOnly)
        {
            if (!filepath.EndsWith(".weights.h5", StringComparison.Ordinal))
                throw new ArgumentException(
                    "When using `saveWeightsOnly: true` in `ModelCheckpoint`, the filepath provided must end in `.weights.h5` (Keras weights format). " +
                    $"Received: filepath={filepath}", nameof(filepath));
        }
        else
        {
            if (!filepath.EndsWith(".keras", StringComparison.Ordinal))
                throw new ArgumentException($"The filepath provided must end in `.keras` (Keras model format). Received: filepath={filepath}", nameof(filepath));
        }
        Filepath = filepath;
        Verbose = verbose;
        SaveBestOnly = saveBestOnly;
        SaveWeightsOnly = saveWeightsOnly;
        SaveFreqBatches = saveFreqBatches;
        Best = initialValueThreshold;
    }

    /// <summary>The path template.</summary>
    public string Filepath { get; }

    /// <summary>The logged value compared with <see cref="SaveBestOnly"/>.</summary>
    public string Monitor { get; }

    /// <summary>0 silent, 1 messages.</summary>
    public int Verbose { get; }

    /// <summary>Whether only improvements are saved.</summary>
    public bool SaveBestOnly { get; }

    /// <summary>Whether only the weights (and optimizer state) are saved, rather than the whole model.</summary>
    public bool SaveWeightsOnly { get; }

    /// <summary><c>"auto"</c>, <c>"min"</c> or <c>"max"</c>.</summary>
    public string Mode { get; }

    /// <summary>Batches between saves, or null to save at the end of every epoch.</summary>
    public int? SaveFreqBatches { get; }

    /// <summary>
    /// The best monitored value seen, or the initial threshold; null until the first comparison, which
    /// starts from infinity in the worse direction as in Keras. Kept across <c>Fit</c> calls, as in Keras.
    /// </summary>
    public double? Best { get; private set; }

    /// <summary>Where messages go (<c>verbose: 1</c>); the console by default.</summary>
    public TextWriter Output { get; set; } = Console.Out;

    /// <summary>
    /// Where warnings go (each distinct one once). Null, the default: the model's logger
    /// (<see cref="Model.LoggerFactory"/>, else <see cref="SeqSharpLogging.LoggerFactory"/>), category
    /// <c>SeqSharp.Callbacks.ModelCheckpoint</c>, event 110.
    /// </summary>
    public TextWriter? Warnings { get; set; }

    /// <inheritdoc />
    public override void OnEpochBegin(int epoch, IDictionary<string, double> logs) => _currentEpoch = epoch;

    /// <inheritdoc />
    public override void OnTrainBatchEnd(int batch, IDictionary<string, double> logs)
    {
        if (ShouldSaveOnBatch(batch))
            Save(_currentEpoch, batch, logs);
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        if (SaveFreqBatches is null)
            Save(epoch, null, logs);
    }

    /// <summary>Keras's batch counting: batches seen since the last save, across epoch boundaries.</summary>
    private bool ShouldSaveOnBatch(int batch)
    {
        if (SaveFreqBatches is not int frequency)
            return false;
        _batchesSinceSave += batch <= _lastBatchSeen ? batch + 1 : batch - _lastBatchSeen;
        _lastBatchSeen = batch;
        if (_batchesSinceSave < frequency)
            return false;
        _batchesSinceSave = 0;
        return true;
    }

    private void Save(int epoch, int? batch, IDictionary<string, double> logs)
    {
        string path = FilePath(epoch, batch, logs);
        if (!ShouldSave(epoch, logs, path))
            return;
        var model = Model ?? throw new InvalidOperationException("ModelCheckpoint has no model: it is set by Fit (or SetModel).");
        if (Directory.Exists(path))
            throw new IOException($"Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an existing directory: {path}");
        string? folder = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(folder))
            Directory.CreateDirectory(folder);
        if (SaveWeightsOnly)
            model.SaveWeights(path);
        else
            model.Save(path);
    }

    private bool ShouldSave(int epoch, IDictionary<string, double> logs, string path)
    {
        if (!SaveBestOnly)
        {
            if (Verbose > 0)
                Output.WriteLine($"Epoch {epoch + 1}: saving model to {path}");
            return true;
        }
        if (!logs.TryGetValue(Monitor, out double current))
        {
            Warn($"Can save best model only with {Monitor} available.");
            return true;
        }
        _minimize ??= MonitorMode.Minimize(Mode, Monitor, Model, nameof(ModelCheckpoint));
        double reference = Best ??= _minimize == true ? double.PositiveInfinity : double.NegativeInfinity;
        string best = PythonFormat.Fixed(reference, 5);
        if (_minimize == true ? current < reference : current > reference)
        {
            if (Verbose > 0)
                Output.WriteLine($"Epoch {epoch + 1}: {Monitor} improved from {best} to {PythonFormat.Fixed(current, 5)}, saving model to {path}");
            Best = current;
            return true;
        }
        if (Verbose > 0)
            Output.WriteLine($"Epoch {epoch + 1}: {Monitor} did not improve from {best}");
        return false;
    }

    private string FilePath(int epoch, int? batch, IDictionary<string, double> logs)
    {
        var values = new Dictionary<string, double>(logs, StringComparer.Ordinal) { ["epoch"] = epoch + 1 };
        if (batch is int b && !logs.ContainsKey("batch"))
            values["batch"] = b + 1;
        try
        {
            return PythonFormat.Format(Filepath, values);
        }
        catch (KeyNotFoundException e)
        {
            throw new KeyNotFoundException($"Failed to format this callback filepath: \"{Filepath}\". Reason: {e.Message}", e);
        }
    }

    private static int? SaveFrequency(string saveFreq) => saveFreq == "epoch"
        ? null
        : throw new ArgumentException(
            $"Unrecognized saveFreq: {saveFreq}. Expected saveFreq are \"epoch\" or integer values (the constructor with an int saveFreq).", nameof(saveFreq));

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
