using Microsoft.Extensions.Logging;
using SeqSharp.Callbacks;
using SeqSharp.Data;
using SeqSharp.Distributed;
using SeqSharp.Layers.Kernels;
using SeqSharp.Layers;
using SeqSharp.Losses;
using SeqSharp.Metrics;
using SeqSharp.Optimizers;
using SeqSharp.Training;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp;

public partial class Model
{
    private protected Optimizer? _optimizer;
    private protected Loss? _loss;
    private protected List<Metric> _metrics = [];
    private protected readonly TrainingGate _trainingGate = new();

    /// <summary>The optimizer set by <see cref="Compile(Optimizers.Optimizer?, Losses.Loss?, IReadOnlyList{object}?)"/>, or null.</summary>
    public Optimizer? Optimizer => _optimizer;

    /// <summary>The loss set by <see cref="Compile(Optimizers.Optimizer?, Losses.Loss?, IReadOnlyList{object}?)"/>, or null.</summary>
    public Loss? Loss => _loss;

    /// <summary>The metrics set by <see cref="Compile(Optimizers.Optimizer?, Losses.Loss?, IReadOnlyList{object}?)"/>, in order.</summary>
    public IReadOnlyList<Metric> Metrics => _metrics;

    /// <summary>Whether <see cref="Compile(Optimizers.Optimizer?, Losses.Loss?, IReadOnlyList{object}?)"/> has been called.</summary>
    public bool Compiled => _optimizer is not null;

    /// <summary>
    /// Set to true (typically by a callback such as EarlyStopping) to end <c>Fit</c> after the
    /// current batch or epoch (Keras <c>model.stop_training</c>).
    /// </summary>
    public bool StopTraining { get; set; }

    /// <summary>
    /// This model's logger factory; null (the default) uses <see cref="SeqSharpLogging.LoggerFactory"/>.
    /// <c>Fit</c>, <c>Evaluate</c>, <c>Predict</c>, <c>Save</c> and <c>Load</c> write structured events
    /// (event ids in docs/logging.md) and warnings to the logger <c>SeqSharp.Sequential</c> from it;
    /// callbacks attached to the model write their warnings through it too. The progress bar is not
    /// logged: it stays on the console, controlled by <c>verbose</c>.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The logger <c>SeqSharp.Sequential</c> from this model's factory or the process-wide one.</summary>
    internal ILogger Logger => SeqSharpLogging.For(this, LoggerCategory);

    /// <summary>
    /// Configures training (Keras <c>compile</c>). Strings convert to Keras's objects of that name:
    /// <c>Compile(optimizer: "adam", loss: "mse", metrics: ["mae"])</c>. Metrics may be given as
    /// names held in variables too: <c>metrics: new[] { "mae" }</c>, a <c>List&lt;string&gt;</c>
    /// read from a config file, <see cref="Metric"/> objects, or a mix.
    /// </summary>
    /// <param name="optimizer">The optimizer; Keras's default <c>"rmsprop"</c> when null.</param>
    /// <param name="loss">The loss to minimise; required before <c>Fit</c> and <c>Evaluate</c>.</param>
    /// <param name="metrics">Metrics reported per epoch: names (<c>string</c>) or <see cref="Metric"/> objects.</param>
    /// <exception cref="ArgumentException">Unknown names (the message lists valid ones), an entry that is neither a name nor a metric, or two metrics with the same name.</exception>
    public void Compile(Optimizer? optimizer = null, Loss? loss = null, IReadOnlyList<object>? metrics = null)
    {
        // Swapping the optimizer, loss or metrics under a running Fit would change its result.
        using var gate = _trainingGate.Enter(Name, nameof(Compile));
        if (_outputs.Count > 1)
        {
            // As Keras: one loss (and one metrics list) for a model with several outputs applies to each output.
            CompileOutputs(optimizer, loss is null ? null : Enumerable.Repeat(loss, _outputs.Count).ToList(), null,
                metrics is null ? null : Enumerable.Repeat(metrics, _outputs.Count).ToList());
            return;
        }
        var list = ParseMetrics(metrics, nameof(metrics));
        RequireDistinct(list, ["loss"], nameof(metrics));
        _optimizer = optimizer ?? Optimizer.Get("rmsprop");
        _loss = loss;
        _metrics = list;
    }

    /// <summary>Metrics from names and objects.</summary>
    private protected static List<Metric> ParseMetrics(IReadOnlyList<object>? metrics, string parameter)
    {
        var list = new List<Metric>();
        for (int i = 0; i < (metrics?.Count ?? 0); i++)
        {
            list.Add(metrics![i] switch
            {
                Metric metric => metric,
                string name => Metric.Get(name),
                null => throw new ArgumentException("Metrics must not contain null.", parameter),
                var other => throw new ArgumentException(
                    $"Expected each metric to be a name (string) or a Metric. Received: {other.GetType().Name} at position {i}.", parameter),
            });
        }
        return list;
    }

    private protected static void RequireDistinct(IEnumerable<Metric> metrics, IEnumerable<string> taken, string parameter)
    {
        var names = new HashSet<string>(taken, StringComparer.Ordinal);
        foreach (var metric in metrics)
        {
            if (!names.Add(metric.Name))
                throw new ArgumentException($"Two metrics (or a metric and the loss) are both named '{metric.Name}'. Give them distinct names.", parameter);
        }
    }

    /// <summary>
    /// Trains the model for a number of epochs (Keras <c>fit</c>).
    /// </summary>
    /// <param name="x">Inputs <c>(samples, ...)</c>, e.g. <c>(samples, timesteps, features)</c>.</param>
    /// <param name="y">Targets <c>(samples, ...)</c> matching the model's output shape.</param>
    /// <param name="batchSize">Samples per gradient step; the last batch of an epoch may be smaller.</param>
    /// <param name="epochs">Index of the last epoch to train (training runs epochs <paramref name="initialEpoch"/> to epochs - 1).</param>
    /// <param name="verbose">0 silent, 1 progress bar, 2 one line per epoch.</param>
    /// <param name="callbacks">Callbacks called during training, in order.</param>
    /// <param name="validationSplit">Fraction in [0, 1) of the samples, taken from the END of the data before any shuffling, held out for validation.</param>
    /// <param name="validationData">Validation inputs and targets; overrides <paramref name="validationSplit"/>.</param>
    /// <param name="shuffle">Reshuffle the training samples before every epoch. Models with stateful recurrent layers need <c>false</c>, so that each batch continues the previous one (as in Keras).</param>
    /// <param name="classWeight">Weights by class index, applied to each training sample's loss (class = argmax of a one-hot target, else its value); not to the validation loss.</param>
    /// <param name="sampleWeight">Per-sample loss weights <c>(samples)</c> (or <c>(samples, timesteps)</c>).</param>
    /// <param name="initialEpoch">Epoch at which to start (to resume a previous run).</param>
    /// <param name="cancellationToken">
    /// Stops training before the next batch: <see cref="Callback.OnTrainEnd"/> still runs, the
    /// weights are those after the last completed step, and the call throws
    /// <see cref="OperationCanceledException"/>.
    /// </param>
    /// <returns>The per-epoch record of losses and metrics.</returns>
    /// <exception cref="InvalidOperationException">
    /// <see cref="Compile(Optimizers.Optimizer?, Losses.Loss?, IReadOnlyList{object}?)"/> was not called or no loss was given, or the trainable weights changed
    /// since the optimizer was built (a layer's <c>Trainable</c> was set: call <see cref="Compile(Optimizers.Optimizer?, Losses.Loss?, IReadOnlyList{object}?)"/> again).
    /// </exception>
    /// <exception cref="ArgumentException">
    /// Mismatched sample counts, shapes that do not fit the model, NaN or infinite values, no samples,
    /// or a validation split that leaves no training sample. Nothing is changed when these are thrown.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive batch size, negative epochs, a split outside [0, 1), a verbose level other than 0, 1, 2.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public History Fit(Tensor x, Tensor y, int batchSize = 32, int epochs = 1, int verbose = 1,
        IReadOnlyList<Callback>? callbacks = null, double validationSplit = 0.0, (Tensor X, Tensor Y)? validationData = null,
        bool shuffle = true, IReadOnlyDictionary<int, double>? classWeight = null, Tensor? sampleWeight = null, int initialEpoch = 0,
        CancellationToken cancellationToken = default)
    {
        using var gate = _trainingGate.Enter(Name, nameof(Fit));
        var (optimizer, loss) = RequireCompiled(nameof(Fit));
        RequirePositive(batchSize, nameof(batchSize));
        RequireFitArguments(verbose, epochs, initialEpoch);
        if (!(validationSplit >= 0 && validationSplit < 1))
            throw new ArgumentOutOfRangeException(nameof(validationSplit), validationSplit,
                $"Expected validationSplit in [0, 1). Received: validationSplit={validationSplit}.");

        using var dataScope = torch.NewDisposeScope();
        var all = PrepareData(x, y, sampleWeight, loss, "x", "y");
        Dataset trainData = all;
        Dataset? validation = null;
        if (validationData is { } given)
        {
            validation = PrepareData(given.X, given.Y, null, loss, "validationData.X", "validationData.Y");
        }
        else if (validationSplit > 0)
        {
            long splitAt = (long)Math.Floor(all.Count * (1.0 - validationSplit));
            if (splitAt == 0 || splitAt == all.Count)
                throw new ArgumentException(
                    $"Training data contains {all.Count} samples, which is not sufficient to split it into a validation and training set as specified by validationSplit={validationSplit}. Either provide more data, or a different value for validationSplit.",
                    nameof(validationSplit));
            trainData = all.Slice(0, splitAt);
            validation = all.Slice(splitAt, all.Count - splitAt);
        }
        // As Keras: class weights apply to the training batches only, never to the validation loss.
        if (classWeight is not null)
            trainData = WithClassWeights(trainData, classWeight);
        BuildFor(all.X);
        // Data parallel: each rank takes its share of every global batch, in rank 0's order.
        var ranks = Distributed(Distribution.Current);
        using var train = new EpochIterator(new ArrayAdapter(trainData, batchSize, shuffle, ranks), null, 0, 1);
        using var val = validation is null ? null : new EpochIterator(new ArrayAdapter(validation, batchSize, false, ranks), null, 0, 1);
        return RunFit(train, val, epochs, initialEpoch, verbose, callbacks, null, cancellationToken, ranks);
    }

    /// <summary>Trains on rectangular arrays (<c>float</c>, <c>double</c>, <c>int</c>, <c>long</c>, <c>short</c>, <c>byte</c>, <c>bool</c>), or rectangular jagged arrays, e.g. <c>float[samples, timesteps, features]</c>.</summary>
    /// <inheritdoc cref="Fit(Tensor, Tensor, int, int, int, IReadOnlyList{Callback}?, double, ValueTuple{Tensor, Tensor}?, bool, IReadOnlyDictionary{int, double}?, Tensor?, int, CancellationToken)"/>
    public History Fit(Array x, Array y, int batchSize = 32, int epochs = 1, int verbose = 1,
        IReadOnlyList<Callback>? callbacks = null, double validationSplit = 0.0, (Array X, Array Y)? validationData = null,
        bool shuffle = true, IReadOnlyDictionary<int, double>? classWeight = null, Array? sampleWeight = null, int initialEpoch = 0,
        CancellationToken cancellationToken = default)
    {
        using var scope = torch.NewDisposeScope();
        return Fit(TensorData.FromArray(x, nameof(x)), TensorData.FromArray(y, nameof(y)), batchSize, epochs, verbose, callbacks, validationSplit,
            validationData is { } v ? (TensorData.FromArray(v.X, "validationData.X"), TensorData.FromArray(v.Y, "validationData.Y")) : null,
            shuffle, classWeight, sampleWeight is null ? null : TensorData.FromArray(sampleWeight, nameof(sampleWeight)), initialEpoch, cancellationToken);
    }

    /// <summary>
    /// Trains on batches from a generator or any re-iterable sequence of <c>(X, Y)</c> pairs (Keras
    /// <c>fit</c> on a generator or dataset): each pair is one batch, batch axis first.
    /// </summary>
    /// <remarks>
    /// <para>As in Keras: without <paramref name="stepsPerEpoch"/> an epoch lasts until the source is
    /// exhausted, and each epoch enumerates it again. With <paramref name="stepsPerEpoch"/> one
    /// enumeration carries on across epochs (an endless generator is cut into epochs of that many
    /// batches); if it runs out first, the epoch ends early with a warning through
    /// <see cref="LoggerFactory"/> and the next epoch enumerates the source again.</para>
    /// <para>With <paramref name="workers"/> 1 or more the next batches (up to
    /// <paramref name="maxQueueSize"/>) are made on a background thread while the current one trains;
    /// the batches and so the results are the same as with <paramref name="workers"/> 0, where the
    /// source runs on the calling thread. A source that draws from TorchSharp's global random
    /// generator while the model does too (dropout) interleaves its draws differently on another
    /// thread: give such a source its own <c>System.Random</c> or <c>torch.Generator</c>.</para>
    /// <para>Tensors the source creates for a batch are disposed after that batch's step; tensors it
    /// yields that existed before are left alone. Each batch is checked (shapes, sample counts,
    /// finite values) before it trains; a bad one stops training with an exception naming its
    /// index. An exception thrown by the source stops training with that exception; the model keeps
    /// the steps completed before it.</para>
    /// </remarks>
    /// <param name="data">The training batches <c>(X, Y)</c>.</param>
    /// <param name="epochs">Index of the last epoch to train.</param>
    /// <param name="verbose">0 silent, 1 progress bar, 2 one line per epoch.</param>
    /// <param name="callbacks">Callbacks called during training, in order.</param>
    /// <param name="validationData">Validation batches, evaluated after every epoch, or null.</param>
    /// <param name="stepsPerEpoch">Batches per epoch; null for one whole pass (required for an endless source to ever finish an epoch).</param>
    /// <param name="validationSteps">Validation batches per evaluation (the same first ones each time); null for the whole validation source.</param>
    /// <param name="classWeight">Weights by class index applied to each training sample's loss.</param>
    /// <param name="initialEpoch">Epoch at which to start.</param>
    /// <param name="workers">Background threads preparing batches: 0 for none (the calling thread), 1 (default) for one.</param>
    /// <param name="maxQueueSize">How many batches may be prepared ahead.</param>
    /// <param name="cancellationToken">Stops training before the next batch (see the array overload).</param>
    /// <example>
    /// <code>
    /// IEnumerable&lt;(Tensor X, Tensor Y)&gt; Batches()
    /// {
    ///     while (true) { var x = torch.randn(32, 20, 3); yield return (x, x.sum([1, 2]).unsqueeze(1)); }
    /// }
    /// model.Fit(Batches(), epochs: 5, stepsPerEpoch: 100);
    /// </code>
    /// </example>
    /// <exception cref="ArgumentException">A batch does not fit the model, or holds NaN or infinite values; the message names the batch.</exception>
    public History Fit(IEnumerable<(Tensor X, Tensor Y)> data, int epochs = 1, int verbose = 1, IReadOnlyList<Callback>? callbacks = null,
        IEnumerable<(Tensor X, Tensor Y)>? validationData = null, int? stepsPerEpoch = null, int? validationSteps = null,
        IReadOnlyDictionary<int, double>? classWeight = null, int initialEpoch = 0, int workers = 1, int maxQueueSize = 10,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return FitSource(new EnumerableAdapter(data.Select(b => new Batch(b.X, b.Y))),
            validationData is null ? null : new EnumerableAdapter(validationData.Select(b => new Batch(b.X, b.Y))),
            epochs, verbose, callbacks, stepsPerEpoch, validationSteps, classWeight, initialEpoch, workers, maxQueueSize, cancellationToken);
    }

    /// <summary>Trains on batches <c>(X, Y, SampleWeight)</c> from a generator or re-iterable sequence; the weights may be null per batch.</summary>
    /// <inheritdoc cref="Fit(IEnumerable{ValueTuple{Tensor, Tensor}}, int, int, IReadOnlyList{Callback}?, IEnumerable{ValueTuple{Tensor, Tensor}}?, int?, int?, IReadOnlyDictionary{int, double}?, int, int, int, CancellationToken)"/>
    public History Fit(IEnumerable<(Tensor X, Tensor Y, Tensor? SampleWeight)> data, int epochs = 1, int verbose = 1, IReadOnlyList<Callback>? callbacks = null,
        IEnumerable<(Tensor X, Tensor Y)>? validationData = null, int? stepsPerEpoch = null, int? validationSteps = null,
        IReadOnlyDictionary<int, double>? classWeight = null, int initialEpoch = 0, int workers = 1, int maxQueueSize = 10,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return FitSource(new EnumerableAdapter(data.Select(b => new Batch(b.X, b.Y, b.SampleWeight))),
            validationData is null ? null : new EnumerableAdapter(validationData.Select(b => new Batch(b.X, b.Y))),
            epochs, verbose, callbacks, stepsPerEpoch, validationSteps, classWeight, initialEpoch, workers, maxQueueSize, cancellationToken);
    }

    /// <summary>
    /// Trains on an indexable <see cref="BatchDataset"/> (Keras <c>fit</c> on a <c>PyDataset</c>),
    /// such as a <see cref="TimeseriesDataset"/>: batches are made when needed, in a new random order
    /// of batch indices every epoch when <paramref name="shuffle"/> is true; with
    /// <paramref name="workers"/> above 1, that many batches are made at once.
    /// </summary>
    /// <inheritdoc cref="Fit(IEnumerable{ValueTuple{Tensor, Tensor}}, int, int, IReadOnlyList{Callback}?, IEnumerable{ValueTuple{Tensor, Tensor}}?, int?, int?, IReadOnlyDictionary{int, double}?, int, int, int, CancellationToken)"/>
    public History Fit(BatchDataset data, int epochs = 1, int verbose = 1, IReadOnlyList<Callback>? callbacks = null,
        BatchDataset? validationData = null, int? stepsPerEpoch = null, int? validationSteps = null, bool shuffle = true,
        IReadOnlyDictionary<int, double>? classWeight = null, int initialEpoch = 0, int workers = 1, int maxQueueSize = 10,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return FitSource(new DatasetAdapter(data, shuffle), validationData is null ? null : new DatasetAdapter(validationData, false),
            epochs, verbose, callbacks, stepsPerEpoch, validationSteps, classWeight, initialEpoch, workers, maxQueueSize, cancellationToken);
    }

    private protected History FitSource(DataAdapter train, DataAdapter? validation, int epochs, int verbose, IReadOnlyList<Callback>? callbacks,
        int? stepsPerEpoch, int? validationSteps, IReadOnlyDictionary<int, double>? classWeight, int initialEpoch, int workers, int maxQueueSize,
        CancellationToken cancellationToken)
    {
        using var gate = _trainingGate.Enter(Name, nameof(Fit));
        RequireCompiled(nameof(Fit));
        RequireFitArguments(verbose, epochs, initialEpoch);
        RequireSteps(stepsPerEpoch, nameof(stepsPerEpoch));
        RequireSteps(validationSteps, nameof(validationSteps));
        RequireWorkers(workers, maxQueueSize);
        RequireLayers();
        var ranks = Distributed(Distribution.Current);
        if (ranks is not null)
        {
            train = train.ForRanks(ranks);
            validation = validation?.ForRanks(ranks);
        }
        if (stepsPerEpoch is null && train.BatchCount is null && train is DatasetAdapter)
            throw new ArgumentException("The dataset is endless (BatchCount is null): give stepsPerEpoch so that an epoch can end.", nameof(stepsPerEpoch));
        if (validationSteps is null && validation is DatasetAdapter { BatchCount: null })
            throw new ArgumentException("The validation dataset is endless (BatchCount is null): give validationSteps.", nameof(validationSteps));
        using var trainIterator = new EpochIterator(train, stepsPerEpoch, workers, maxQueueSize) { RanOut = () => RanOut(stepsPerEpoch, "training") };
        using var validationIterator = validation is null ? null
            : new EpochIterator(validation, validationSteps, workers, maxQueueSize) { RanOut = () => RanOut(validationSteps, "validation") };
        return RunFit(trainIterator, validationIterator, epochs, initialEpoch, verbose, callbacks, classWeight, cancellationToken, ranks);
    }

    /// <summary>The training loop shared by every kind of data (Keras's trainer <c>fit</c>); <paramref name="ranks"/> for data-parallel training, whose adapters give this rank's share.</summary>
    private protected History RunFit(EpochIterator trainData, EpochIterator? validation, int epochs, int initialEpoch, int verbose,
        IReadOnlyList<Callback>? callbacks, IReadOnlyDictionary<int, double>? classWeight, CancellationToken cancellationToken, DataParallel? ranks = null)
    {
        if (ranks is not null)
            return RunFitDistributed(ranks, trainData, validation, epochs, initialEpoch, verbose, callbacks, classWeight, cancellationToken);
        var (optimizer, loss) = RequireCompiled(nameof(Fit));
        // As Keras: the optimizer is built for the trainable weights only, before training starts,
        // so an optimizer built for other variables is refused before any callback runs. A model
        // built only by its first batch builds it then.
        IReadOnlyList<Parameter>? variables = Built ? BuildOptimizer(optimizer) : null;

        var (history, list) = FitCallbacks(trainData, epochs, verbose, callbacks);

        StopTraining = false;
        IDictionary<string, double> epochLogs = new Dictionary<string, double>();
        list.TrainBegin(new Dictionary<string, double>());
        bool wasTraining = training;
        bool cancelled = false;
        try
        {
            for (int epoch = initialEpoch; epoch < epochs && !StopTraining; epoch++)
            {
                ResetMetrics();
                var tracker = new LossTracker();
                list.EpochBegin(epoch, new Dictionary<string, double>());
                int step = 0;
                foreach (var fetched in trainData.Epoch())
                {
                    using (fetched)
                    {
                        if (cancellationToken.IsCancellationRequested)
                        {
                            cancelled = true;
                            cancellationToken.ThrowIfCancellationRequested();
                        }
                        list.TrainBatchBegin(step, new Dictionary<string, double>());
                        using (var scope = torch.NewDisposeScope())
                        {
                            var (xb, yb, wb) = trainData.Adapter.Checked ? Unpack(fetched.Batch) : CheckBatch(fetched.Batch, step, "training", loss, classWeight);
                            if (variables is null)
                            {
                                BuildFor(xb);
                                variables = BuildOptimizer(optimizer);
                            }
                            TrainStep(xb, yb, wb, optimizer, loss, variables, tracker);
                        }
                        list.TrainBatchEnd(step, CurrentLogs(tracker, ""));
                        step++;
                        if (StopTraining)
                            break;
                    }
                }
                epochLogs = CurrentLogs(tracker, "");
                if (validation is not null)
                    AddValidationLogs(epochLogs, validation, () => RunEvaluation(validation, list, loss, cancellationToken));
                list.EpochEnd(epoch, epochLogs);
            }
        }
        catch (OperationCanceledException) when (cancelled || cancellationToken.IsCancellationRequested)
        {
            // As the issue asks (Keras has no token): the end-of-training hooks still run, then the caller learns of the cancellation.
            train(wasTraining);
            list.TrainEnd(epochLogs);
            throw;
        }
        finally
        {
            train(wasTraining);
        }
        list.TrainEnd(epochLogs);
        return history;
    }

    /// <summary>The History and the callbacks of a Fit, with Keras's <c>params</c> (epochs, verbose, and steps when known).</summary>
    private protected (History History, CallbackList List) FitCallbacks(EpochIterator trainData, int epochs, int verbose, IReadOnlyList<Callback>? callbacks)
    {
        var history = new History();
        var parameters = new Dictionary<string, object> { ["epochs"] = epochs, ["verbose"] = verbose };
        if (trainData.Steps is int steps)
            parameters["steps"] = steps;
        return (history, DefaultCallbacks(callbacks, verbose, history, parameters));
    }

    /// <summary>Runs the validation pass from its start and adds its logs to the epoch's, prefixed with <c>val_</c>.</summary>
    private protected static void AddValidationLogs(IDictionary<string, double> epochLogs, EpochIterator validation, Func<IReadOnlyDictionary<string, double>> evaluate)
    {
        validation.Reset();
        foreach (var (name, value) in evaluate())
            epochLogs["val_" + name] = value;
    }

    /// <summary>Builds the optimizer for the trainable weights; a change of <c>Trainable</c> since it was built asks for <see cref="Compile(Optimizers.Optimizer?, Losses.Loss?, IReadOnlyList{object}?)"/> again.</summary>
    private protected List<Parameter> BuildOptimizer(Optimizer optimizer)
    {
        var variables = UniqueLayers.SelectMany(l => l.TrainableWeights).ToList();
        if (variables.Count == 0)
            return variables;
        try
        {
            optimizer.Build(variables);
        }
        catch (InvalidOperationException e) when (optimizer.Built)
        {
            throw new InvalidOperationException(
                $"The trainable weights of model '{Name}' changed since its optimizer was built (a layer's Trainable was set after training): " +
                $"call Compile() again, with a new optimizer, before Fit(). {e.Message}", e);
        }
        return variables;
    }

    /// <summary>
    /// Computes the loss and metrics on the given data, in batches, in inference mode (Keras <c>evaluate</c>).
    /// </summary>
    /// <param name="x">Inputs <c>(samples, ...)</c>.</param>
    /// <param name="y">Targets <c>(samples, ...)</c>.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="verbose">0 silent, 1 progress bar, 2 one line.</param>
    /// <param name="sampleWeight">Per-sample loss weights, or null.</param>
    /// <param name="callbacks">Callbacks receiving the test hooks.</param>
    /// <param name="cancellationToken">Stops before the next batch: <see cref="Callback.OnTestEnd"/> runs, then <see cref="OperationCanceledException"/> is thrown.</param>
    /// <returns><c>"loss"</c> and each metric by name.</returns>
    /// <exception cref="InvalidOperationException"><see cref="Compile(Optimizers.Optimizer?, Losses.Loss?, IReadOnlyList{object}?)"/> was not called or no loss was given.</exception>
    /// <exception cref="ArgumentException">Mismatched sample counts, shapes that do not fit, NaN or infinite values, no samples.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IReadOnlyDictionary<string, double> Evaluate(Tensor x, Tensor y, int batchSize = 32, int verbose = 1,
        Tensor? sampleWeight = null, IReadOnlyList<Callback>? callbacks = null, CancellationToken cancellationToken = default)
    {
        using var gate = _trainingGate.Enter(Name, nameof(Evaluate));
        var (_, loss) = RequireCompiled(nameof(Evaluate));
        RequirePositive(batchSize, nameof(batchSize));
        RequireVerbose(verbose);
        using var scope = torch.NewDisposeScope();
        var data = PrepareData(x, y, sampleWeight, loss, "x", "y");
        BuildFor(data.X);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Data parallel: each rank evaluates its share of every batch; the logs are global.
        var ranks = Distributed(Distribution.Current);
        using var iterator = new EpochIterator(new ArrayAdapter(data, batchSize, false, ranks), null, 0, 1);
        var results = EvaluateOn(iterator, verbose, callbacks, loss, cancellationToken, ranks);
        ModelLog.Evaluated(Logger, Name, data.X.shape[0], clock.Elapsed.TotalMilliseconds, results);
        return results;
    }

    /// <summary>Evaluates on rectangular arrays (any numeric or bool element type) or rectangular jagged arrays.</summary>
    /// <inheritdoc cref="Evaluate(Tensor, Tensor, int, int, Tensor?, IReadOnlyList{Callback}?, CancellationToken)"/>
    public IReadOnlyDictionary<string, double> Evaluate(Array x, Array y, int batchSize = 32, int verbose = 1,
        Array? sampleWeight = null, IReadOnlyList<Callback>? callbacks = null, CancellationToken cancellationToken = default)
    {
        using var scope = torch.NewDisposeScope();
        return Evaluate(TensorData.FromArray(x, nameof(x)), TensorData.FromArray(y, nameof(y)), batchSize, verbose,
            sampleWeight is null ? null : TensorData.FromArray(sampleWeight, nameof(sampleWeight)), callbacks, cancellationToken);
    }

    /// <summary>
    /// Evaluates on batches <c>(X, Y)</c> from a generator or re-iterable sequence (Keras
    /// <c>evaluate</c> on a generator): the whole source, or its first <paramref name="steps"/> batches.
    /// </summary>
    /// <param name="data">The batches.</param>
    /// <param name="steps">Batches to evaluate; null for all (required for an endless source).</param>
    /// <param name="verbose">0 silent, 1 progress bar, 2 one line.</param>
    /// <param name="callbacks">Callbacks receiving the test hooks.</param>
    /// <param name="workers">Background threads preparing batches (0: the calling thread).</param>
    /// <param name="maxQueueSize">How many batches may be prepared ahead.</param>
    /// <param name="cancellationToken">Stops before the next batch and throws <see cref="OperationCanceledException"/>.</param>
    /// <returns><c>"loss"</c> and each metric by name.</returns>
    /// <exception cref="ArgumentException">A batch does not fit the model; the message names the batch.</exception>
    public IReadOnlyDictionary<string, double> Evaluate(IEnumerable<(Tensor X, Tensor Y)> data, int? steps = null, int verbose = 1,
        IReadOnlyList<Callback>? callbacks = null, int workers = 1, int maxQueueSize = 10, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return EvaluateSource(new EnumerableAdapter(data.Select(b => new Batch(b.X, b.Y))), steps, verbose, callbacks, workers, maxQueueSize, cancellationToken);
    }

    /// <summary>Evaluates on batches <c>(X, Y, SampleWeight)</c>.</summary>
    /// <inheritdoc cref="Evaluate(IEnumerable{ValueTuple{Tensor, Tensor}}, int?, int, IReadOnlyList{Callback}?, int, int, CancellationToken)"/>
    public IReadOnlyDictionary<string, double> Evaluate(IEnumerable<(Tensor X, Tensor Y, Tensor? SampleWeight)> data, int? steps = null, int verbose = 1,
        IReadOnlyList<Callback>? callbacks = null, int workers = 1, int maxQueueSize = 10, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return EvaluateSource(new EnumerableAdapter(data.Select(b => new Batch(b.X, b.Y, b.SampleWeight))), steps, verbose, callbacks, workers, maxQueueSize, cancellationToken);
    }

    /// <summary>Evaluates on a <see cref="BatchDataset"/>, such as a <see cref="TimeseriesDataset"/>, in index order.</summary>
    /// <inheritdoc cref="Evaluate(IEnumerable{ValueTuple{Tensor, Tensor}}, int?, int, IReadOnlyList{Callback}?, int, int, CancellationToken)"/>
    public IReadOnlyDictionary<string, double> Evaluate(BatchDataset data, int? steps = null, int verbose = 1,
        IReadOnlyList<Callback>? callbacks = null, int workers = 1, int maxQueueSize = 10, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (steps is null && data.BatchCount is null)
            throw new ArgumentException("The dataset is endless (BatchCount is null): give steps.", nameof(steps));
        return EvaluateSource(new DatasetAdapter(data, false), steps, verbose, callbacks, workers, maxQueueSize, cancellationToken);
    }

    private protected IReadOnlyDictionary<string, double> EvaluateSource(DataAdapter adapter, int? steps, int verbose, IReadOnlyList<Callback>? callbacks,
        int workers, int maxQueueSize, CancellationToken cancellationToken)
    {
        using var gate = _trainingGate.Enter(Name, nameof(Evaluate));
        var (_, loss) = RequireCompiled(nameof(Evaluate));
        RequireVerbose(verbose);
        RequireSteps(steps, nameof(steps));
        RequireWorkers(workers, maxQueueSize);
        RequireLayers();
        var ranks = Distributed(Distribution.Current);
        using var iterator = new EpochIterator(ranks is null ? adapter : adapter.ForRanks(ranks), steps, workers, maxQueueSize) { RanOut = () => RanOut(steps, "evaluation") };
        return EvaluateOn(iterator, verbose, callbacks, loss, cancellationToken, ranks);
    }

    private protected IReadOnlyDictionary<string, double> EvaluateOn(EpochIterator iterator, int verbose, IReadOnlyList<Callback>? callbacks, Loss loss,
        CancellationToken cancellationToken, DataParallel? ranks = null)
    {
        var parameters = new Dictionary<string, object> { ["verbose"] = verbose };
        if (iterator.Steps is int steps)
            parameters["steps"] = steps;
        var list = DefaultCallbacks(callbacks, verbose, history: null, parameters);
        return new Dictionary<string, double>(ranks is null ? RunEvaluation(iterator, list, loss, cancellationToken)
            : RunEvaluationDistributed(ranks, iterator, list, loss, cancellationToken));
    }

    /// <summary>
    /// One gradient step on one batch (Keras <c>train_on_batch</c>): the loss before the step, and
    /// the compiled metrics updated with this batch (they accumulate over calls, as in Keras 3,
    /// until <see cref="ResetMetricsState"/>). Runs in training mode, as <c>Fit</c> does.
    /// </summary>
    /// <param name="x">Inputs <c>(batch, ...)</c>.</param>
    /// <param name="y">Targets <c>(batch, ...)</c>.</param>
    /// <param name="sampleWeight">Per-sample loss weights <c>(batch)</c>, or null.</param>
    /// <param name="classWeight">Weights by class index, or null.</param>
    /// <returns>The batch's loss.</returns>
    /// <exception cref="InvalidOperationException"><see cref="Compile(Optimizers.Optimizer?, Losses.Loss?, IReadOnlyList{object}?)"/> was not called, or the trainable weights changed since the optimizer was built.</exception>
    /// <exception cref="ArgumentException">The batch does not fit the model, or holds NaN or infinite values.</exception>
    public double TrainOnBatch(Tensor x, Tensor y, Tensor? sampleWeight = null, IReadOnlyDictionary<int, double>? classWeight = null)
    {
        using var gate = _trainingGate.Enter(Name, nameof(TrainOnBatch));
        var (optimizer, loss) = RequireCompiled(nameof(TrainOnBatch));
        using var scope = torch.NewDisposeScope();
        var data = PrepareData(x, y, sampleWeight, loss, "x", "y");
        if (classWeight is not null)
            data = WithClassWeights(data, classWeight);
        BuildFor(data.X);
        var variables = BuildOptimizer(optimizer);
        bool wasTraining = training;
        try
        {
            var tracker = new LossTracker();
            TrainStep(data.X, data.Y, data.SampleWeight, optimizer, loss, variables, tracker);
            return tracker.Result;
        }
        finally
        {
            train(wasTraining);
        }
    }

    /// <summary>Trains on one batch of rectangular arrays.</summary>
    /// <inheritdoc cref="TrainOnBatch(Tensor, Tensor, Tensor?, IReadOnlyDictionary{int, double}?)"/>
    public double TrainOnBatch(Array x, Array y, Array? sampleWeight = null, IReadOnlyDictionary<int, double>? classWeight = null)
    {
        using var scope = torch.NewDisposeScope();
        return TrainOnBatch(TensorData.FromArray(x, nameof(x)), TensorData.FromArray(y, nameof(y)),
            sampleWeight is null ? null : TensorData.FromArray(sampleWeight, nameof(sampleWeight)), classWeight);
    }

    /// <summary>
    /// The loss on one batch in inference mode, without training (Keras <c>test_on_batch</c>); the
    /// compiled metrics are updated with this batch.
    /// </summary>
    /// <inheritdoc cref="TrainOnBatch(Tensor, Tensor, Tensor?, IReadOnlyDictionary{int, double}?)"/>
    public double TestOnBatch(Tensor x, Tensor y, Tensor? sampleWeight = null)
    {
        using var gate = _trainingGate.Enter(Name, nameof(TestOnBatch));
        var (_, loss) = RequireCompiled(nameof(TestOnBatch));
        using var scope = torch.NewDisposeScope();
        var data = PrepareData(x, y, sampleWeight, loss, "x", "y");
        BuildFor(data.X);
        bool wasTraining = training;
        using var mode = CallMode.Use(training: false);
        try
        {
            using var _ = torch.no_grad();
            using var activity = Regularizers.ActivityPenalties.Begin();
            var prediction = forward(data.X);
            double value = WithRegularization(loss.Call(data.Y, prediction, data.SampleWeight), activity).ToDouble();
            foreach (var metric in _metrics)
                metric.UpdateState(data.Y, prediction, data.SampleWeight);
            return value;
        }
        finally
        {
            train(wasTraining);
        }
    }

    /// <summary>Tests on one batch of rectangular arrays.</summary>
    /// <inheritdoc cref="TestOnBatch(Tensor, Tensor, Tensor?)"/>
    public double TestOnBatch(Array x, Array y, Array? sampleWeight = null)
    {
        using var scope = torch.NewDisposeScope();
        return TestOnBatch(TensorData.FromArray(x, nameof(x)), TensorData.FromArray(y, nameof(y)),
            sampleWeight is null ? null : TensorData.FromArray(sampleWeight, nameof(sampleWeight)));
    }

    /// <summary>Resets the compiled metrics' accumulated state (Keras <c>reset_metrics</c>), e.g. between <see cref="TrainOnBatch(Tensor, Tensor, Tensor?, IReadOnlyDictionary{int, double}?)"/> runs.</summary>
    public void ResetMetricsState() => ResetMetrics();

    /// <summary>The compiled metrics' current values by name (what <see cref="TrainOnBatch(Tensor, Tensor, Tensor?, IReadOnlyDictionary{int, double}?)"/> accumulated).</summary>
    public IReadOnlyDictionary<string, double> MetricsResult() => _metrics.ToDictionary(m => m.Name, m => m.Result());

    /// <summary>One gradient step on one batch, inside the caller's dispose scope.</summary>
    private protected void TrainStep(Tensor xb, Tensor yb, Tensor? wb, Optimizer optimizer, Loss loss,
        IReadOnlyList<Parameter> variables, LossTracker tracker)
    {
        Tensor prediction;
        using var activity = Regularizers.ActivityPenalties.Begin();
        // Training mode for this call only (Keras's training=True); the model's flag stays as it is.
        using (CallMode.Use(training: true))
            prediction = forward(xb);
        // Keras 3's compute_loss: the compiled loss plus the weight and activity penalties.
        var value = WithRegularization(loss.Call(yb, prediction, wb), activity);
        if (variables.Count > 0)
        {
            foreach (var v in variables)
                v.grad = null;
            // Not value.backward(): a failure inside a recurrent kernel's backward comes back with its own message.
            BackwardFailure.Backward(value);
            optimizer.Step(variables);
            ApplyConstraints();
        }
        tracker.Add(value.ToDouble(), xb.shape[0]);
        using var _ = torch.no_grad();
        var detached = prediction.detach();
        foreach (var metric in _metrics)
            metric.UpdateState(yb, detached, wb);
    }

    /// <summary>The evaluation loop shared by <c>Evaluate</c> and Fit's validation.</summary>
    private protected Dictionary<string, double> RunEvaluation(EpochIterator data, CallbackList callbacks, Loss loss, CancellationToken cancellationToken)
    {
        bool wasTraining = training;
        using var mode = CallMode.Use(training: false);
        var tracker = new LossTracker();
        try
        {
            ResetMetrics();
            callbacks.TestBegin(new Dictionary<string, double>());
            using var _ = torch.no_grad();
            int step = 0;
            foreach (var fetched in data.Epoch())
            {
                using (fetched)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    callbacks.TestBatchBegin(step, new Dictionary<string, double>());
                    using (var scope = torch.NewDisposeScope())
                    {
                        var (xb, yb, wb) = data.Adapter.Checked ? Unpack(fetched.Batch) : CheckBatch(fetched.Batch, step, "evaluation", loss, null);
                        BuildFor(xb);
                        using var activity = Regularizers.ActivityPenalties.Begin();
                        var prediction = forward(xb);
                        tracker.Add(WithRegularization(loss.Call(yb, prediction, wb), activity).ToDouble(), xb.shape[0]);
                        foreach (var metric in _metrics)
                            metric.UpdateState(yb, prediction, wb);
                    }
                    callbacks.TestBatchEnd(step, CurrentLogs(tracker, ""));
                    step++;
                }
            }
            var logs = CurrentLogs(tracker, "");
            callbacks.TestEnd(logs);
            return logs;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            callbacks.TestEnd(CurrentLogs(tracker, ""));
            throw;
        }
        finally
        {
            train(wasTraining);
        }
    }

    private protected static (Tensor X, Tensor Y, Tensor? SampleWeight) Unpack(Batch batch) => (batch.X, batch.Y!, batch.SampleWeight);

    /// <summary>Warns (through the logger) that a source ran out before the steps asked for, as Keras does.</summary>
    private protected void RanOut(int? steps, string what)
    {
        var logger = LoggerFactory?.CreateLogger(LoggerCategory);
        logger?.LogWarning(
            "Your {What} input ran out of data before {Steps} steps; interrupting the epoch. Make sure that the source can generate at least stepsPerEpoch * epochs batches " +
            "(the next epoch enumerates it again).", what, steps);
    }

    private protected Dictionary<string, double> CurrentLogs(LossTracker tracker, string prefix)
    {
        var logs = new Dictionary<string, double>(StringComparer.Ordinal) { [prefix + "loss"] = tracker.Result };
        foreach (var metric in _metrics)
        {
            foreach (var (key, value) in metric.LogEntries())
                logs[prefix + key] = value;
        }
        return logs;
    }

    private protected void ResetMetrics()
    {
        foreach (var metric in _metrics)
            metric.ResetState();
    }

    /// <summary>Keras's order: the progress bar first, the user's callbacks, the logger, the History last.</summary>
    private protected CallbackList DefaultCallbacks(IReadOnlyList<Callback>? callbacks, int verbose, History? history, Dictionary<string, object> parameters)
    {
        var all = new List<Callback>();
        // Data parallel: rank 0 alone shows progress and writes files; the others keep the callbacks that decide.
        bool chief = Distribution.Current is not { WorldSize: > 1, IsChief: false };
        if (verbose > 0 && chief && callbacks?.OfType<ProgbarLogger>().Any() != true)
            all.Add(new ProgbarLogger());
        if (callbacks is not null)
            all.AddRange(callbacks.Where(c => c is not null && (chief || !WritesFiles(c))));
        var logger = Logger;
        if (chief && logger.IsEnabled(LogLevel.Information))
            all.Add(new TrainingLog(logger));
        if (history is not null)
            all.Add(history);
        var list = new CallbackList(all);
        list.Configure(this, parameters);
        return list;
    }

    /// <summary>Callbacks that show progress or write files: on rank 0 only in data-parallel training.</summary>
    private protected static bool WritesFiles(Callback callback) => callback is ProgbarLogger or ModelCheckpoint or CSVLogger or TensorBoard;

    private protected (Optimizer Optimizer, Loss Loss) RequireCompiled(string method)
    {
        if (_optimizer is null)
            throw new InvalidOperationException($"You must call Compile() before calling {method}().");
        if (_loss is null)
            throw new InvalidOperationException($"No loss to compute. Provide a loss argument in Compile() before calling {method}().");
        return (_optimizer, _loss);
    }

    private protected static void RequirePositive(int batchSize, string name)
    {
        if (batchSize <= 0)
            throw new ArgumentOutOfRangeException(name, batchSize, $"Expected a positive batch size. Received: {name}={batchSize}.");
    }

    private protected static void RequireFitArguments(int verbose, int epochs, int initialEpoch)
    {
        RequireVerbose(verbose);
        if (epochs < 0)
            throw new ArgumentOutOfRangeException(nameof(epochs), epochs, $"Expected epochs >= 0. Received: epochs={epochs}.");
        if (initialEpoch < 0)
            throw new ArgumentOutOfRangeException(nameof(initialEpoch), initialEpoch, $"Expected initialEpoch >= 0. Received: initialEpoch={initialEpoch}.");
    }

    private protected static void RequireSteps(int? steps, string name)
    {
        if (steps is <= 0)
            throw new ArgumentOutOfRangeException(name, steps, $"Expected a positive number of steps or null. Received: {name}={steps}.");
    }

    private protected static void RequireWorkers(int workers, int maxQueueSize)
    {
        if (workers < 0)
            throw new ArgumentOutOfRangeException(nameof(workers), workers, $"Expected workers >= 0. Received: workers={workers}.");
        if (maxQueueSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxQueueSize), maxQueueSize, $"Expected a positive maxQueueSize. Received: maxQueueSize={maxQueueSize}.");
    }

    private protected static void RequireVerbose(int verbose)
    {
        if (verbose is < 0 or > 2)
            throw new ArgumentOutOfRangeException(nameof(verbose), verbose, $"Expected verbose 0 (silent), 1 (progress bar) or 2 (one line per epoch). Received: verbose={verbose}.");
    }

    /// <summary>Running mean of batch losses weighted by batch size (Keras's loss tracker).</summary>
    private protected sealed class LossTracker
    {
        private double _sum;
        private long _count;

        public void Add(double value, long count)
        {
            _sum += value * count;
            _count += count;
        }

        public double Result => _count == 0 ? double.NaN : _sum / _count;

        /// <summary>(loss · count, count) so far, for summing over ranks.</summary>
        public double[] Totals() => [_sum, _count];

        public void Set(double sum, double count)
        {
            _sum = sum;
            _count = (long)count;
        }
    }
}
