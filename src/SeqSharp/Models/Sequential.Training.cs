using Microsoft.Extensions.Logging;
using SeqSharp.Callbacks;
using SeqSharp.Data;
using SeqSharp.Distributed;
using SeqSharp.Layers;
using SeqSharp.Layers.Kernels;
using SeqSharp.Losses;
using SeqSharp.Metrics;
using SeqSharp.Optimizers;
using SeqSharp.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp;

public sealed partial class Sequential
{
    private Optimizer? _optimizer;
    private Loss? _loss;
    private List<Metric> _metrics = [];
    private readonly TrainingGate _trainingGate = new();

    /// <summary>The optimizer set by <see cref="Compile"/>, or null.</summary>
    public Optimizer? Optimizer => _optimizer;

    /// <summary>The loss set by <see cref="Compile"/>, or null.</summary>
    public Loss? Loss => _loss;

    /// <summary>The metrics set by <see cref="Compile"/>, in order.</summary>
    public IReadOnlyList<Metric> Metrics => _metrics;

    /// <summary>Whether <see cref="Compile"/> has been called.</summary>
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
    internal ILogger Logger => SeqSharpLogging.For(this, "SeqSharp.Sequential");

    /// <summary>
    /// Configures training (Keras <c>compile</c>). Strings convert to Keras's objects of that name:
    /// <c>Compile(optimizer: "adam", loss: "mse", metrics: ["mae"])</c>.
    /// </summary>
    /// <param name="optimizer">The optimizer; Keras's default <c>"rmsprop"</c> when null.</param>
    /// <param name="loss">The loss to minimise; required before <c>Fit</c> and <c>Evaluate</c>.</param>
    /// <param name="metrics">Metrics reported per epoch, by name or object.</param>
    /// <exception cref="ArgumentException">Unknown names (the message lists valid ones) or two metrics with the same name.</exception>
    /// <exception cref="InvalidOperationException">Another thread is training or evaluating this model.</exception>
    public void Compile(Optimizer? optimizer = null, Loss? loss = null, IReadOnlyList<Metric>? metrics = null)
    {
        // Swapping the optimizer, loss or metrics under a running Fit would change its result.
        using var gate = _trainingGate.Enter(Name, nameof(Compile));
        var list = metrics?.ToList() ?? [];
        if (list.Any(m => m is null))
            throw new ArgumentException("Metrics must not contain null.", nameof(metrics));
        var names = new HashSet<string>(StringComparer.Ordinal) { "loss" };
        foreach (var metric in list)
        {
            if (!names.Add(metric.Name))
                throw new ArgumentException($"Two metrics (or a metric and the loss) are both named '{metric.Name}'. Give them distinct names.", nameof(metrics));
        }
        _optimizer = optimizer ?? Optimizer.Get("rmsprop");
        _loss = loss;
        _metrics = list;
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
    /// <returns>The per-epoch record of losses and metrics.</returns>
    /// <exception cref="InvalidOperationException">
    /// <see cref="Compile"/> was not called or no loss was given, or the optimizer was built for other
    /// variables (a layer's <c>Trainable</c> changed since: call <see cref="Compile"/> again); another
    /// thread is already training or evaluating this model (refused before anything changes); or a
    /// recurrent layer's backward pass failed, for example because its weights were changed between
    /// the forward pass and backward (the message names the layer and the cause).
    /// </exception>
    /// <exception cref="ArgumentException">
    /// Mismatched sample counts, shapes that do not fit the model, NaN or infinite values, no samples,
    /// or a validation split that leaves no training sample. Nothing is changed when these are thrown.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive batch size, negative epochs, a split outside [0, 1), a verbose level other than 0, 1, 2.</exception>
    public History Fit(Tensor x, Tensor y, int batchSize = 32, int epochs = 1, int verbose = 1,
        IReadOnlyList<Callback>? callbacks = null, double validationSplit = 0.0, (Tensor X, Tensor Y)? validationData = null,
        bool shuffle = true, IReadOnlyDictionary<int, double>? classWeight = null, Tensor? sampleWeight = null, int initialEpoch = 0)
    {
        using var gate = _trainingGate.Enter(Name, nameof(Fit));
        var (optimizer, loss) = RequireCompiled(nameof(Fit));
        RequirePositive(batchSize, nameof(batchSize));
        RequireVerbose(verbose);
        if (epochs < 0)
            throw new ArgumentOutOfRangeException(nameof(epochs), epochs, $"Expected epochs >= 0. Received: epochs={epochs}.");
        if (initialEpoch < 0)
            throw new ArgumentOutOfRangeException(nameof(initialEpoch), initialEpoch, $"Expected initialEpoch >= 0. Received: initialEpoch={initialEpoch}.");
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
        // As Keras: the optimizer is built for the trainable weights only, before training starts,
        // so an optimizer built for other variables is refused before any callback runs.
        var variables = _layers.SelectMany(l => l.TrainableWeights).ToList();
        if (variables.Count > 0)
            optimizer.Build(variables);
        // Data parallel: every rank starts from rank 0's weights and optimizer state.
        var distribution = Distributed(Distribution.Current);
        if (distribution is not null)
        {
            distribution.BroadcastTensors(_layers.SelectMany(l => l.Weights));
            var state = optimizer.Variables;
            distribution.BroadcastTensors(state);
            optimizer.SetVariables(state);
        }

        var history = new History();
        int steps = trainData.Batches(batchSize);
        var list = DefaultCallbacks(callbacks, verbose, history, new Dictionary<string, object>
        {
            ["epochs"] = epochs,
            ["steps"] = steps,
            ["verbose"] = verbose,
        });

        StopTraining = false;
        IDictionary<string, double> epochLogs = new Dictionary<string, double>();
        list.TrainBegin(new Dictionary<string, double>());
        for (int epoch = initialEpoch; epoch < epochs && !StopTraining; epoch++)
        {
            ResetMetrics();
            var tracker = new LossTracker();
            list.EpochBegin(epoch, new Dictionary<string, double>());
            using (var epochScope = torch.NewDisposeScope())
            {
                var order = shuffle ? torch.randperm(trainData.Count) : null;
                if (order is not null && distribution is not null)
                    order = distribution.BroadcastIndices(order);
                for (int step = 0; step < steps; step++)
                {
                    list.TrainBatchBegin(step, new Dictionary<string, double>());
                    long start = (long)step * batchSize;
                    long count = Math.Min(batchSize, trainData.Count - start);
                    if (distribution is null)
                        TrainStep(trainData, order, start, count, optimizer, loss, variables, tracker);
                    else
                        DistributedTrainStep(distribution, trainData, order, start, count, optimizer, loss, variables, tracker);
                    list.TrainBatchEnd(step, CurrentLogs(tracker, ""));
                    if (distribution is not null)
                        StopTraining = distribution.AnyRank(StopTraining);
                    if (StopTraining)
                        break;
                }
            }
            epochLogs = GlobalLogs(distribution, tracker);
            if (validation is not null)
            {
                var validationLogs = RunEvaluation(validation, batchSize, list, loss, distribution);
                foreach (var (name, value) in validationLogs)
                    epochLogs["val_" + name] = value;
            }
            list.EpochEnd(epoch, epochLogs);
            if (distribution is not null)
                StopTraining = distribution.AnyRank(StopTraining);
        }
        list.TrainEnd(epochLogs);
        return history;
    }

    /// <summary>Trains on rectangular <c>float</c> or <c>double</c> arrays, e.g. <c>float[samples, timesteps, features]</c>.</summary>
    /// <inheritdoc cref="Fit(Tensor, Tensor, int, int, int, IReadOnlyList{Callback}?, double, ValueTuple{Tensor, Tensor}?, bool, IReadOnlyDictionary{int, double}?, Tensor?, int)"/>
    public History Fit(Array x, Array y, int batchSize = 32, int epochs = 1, int verbose = 1,
        IReadOnlyList<Callback>? callbacks = null, double validationSplit = 0.0, (Array X, Array Y)? validationData = null,
        bool shuffle = true, IReadOnlyDictionary<int, double>? classWeight = null, Array? sampleWeight = null, int initialEpoch = 0)
    {
        using var scope = torch.NewDisposeScope();
        return Fit(TensorData.FromArray(x, nameof(x)), TensorData.FromArray(y, nameof(y)), batchSize, epochs, verbose, callbacks, validationSplit,
            validationData is { } v ? (TensorData.FromArray(v.X, "validationData.X"), TensorData.FromArray(v.Y, "validationData.Y")) : null,
            shuffle, classWeight, sampleWeight is null ? null : TensorData.FromArray(sampleWeight, nameof(sampleWeight)), initialEpoch);
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
    /// <returns><c>"loss"</c> and each metric by name.</returns>
    /// <exception cref="InvalidOperationException"><see cref="Compile"/> was not called or no loss was given, or another thread is already training or evaluating this model.</exception>
    /// <exception cref="ArgumentException">Mismatched sample counts, shapes that do not fit, NaN or infinite values, no samples.</exception>
    public IReadOnlyDictionary<string, double> Evaluate(Tensor x, Tensor y, int batchSize = 32, int verbose = 1,
        Tensor? sampleWeight = null, IReadOnlyList<Callback>? callbacks = null)
    {
        using var gate = _trainingGate.Enter(Name, nameof(Evaluate));
        var (_, loss) = RequireCompiled(nameof(Evaluate));
        RequirePositive(batchSize, nameof(batchSize));
        RequireVerbose(verbose);
        using var scope = torch.NewDisposeScope();
        var data = PrepareData(x, y, sampleWeight, loss, "x", "y");
        BuildFor(data.X);
        var list = DefaultCallbacks(callbacks, verbose, history: null, new Dictionary<string, object>
        {
            ["steps"] = data.Batches(batchSize),
            ["verbose"] = verbose,
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var results = new Dictionary<string, double>(RunEvaluation(data, batchSize, list, loss, Distributed(Distribution.Current)));
        ModelLog.Evaluated(Logger, Name, data.X.shape[0], clock.Elapsed.TotalMilliseconds, results);
        return results;
    }

    /// <summary>Evaluates on rectangular <c>float</c> or <c>double</c> arrays.</summary>
    /// <inheritdoc cref="Evaluate(Tensor, Tensor, int, int, Tensor?, IReadOnlyList{Callback}?)"/>
    public IReadOnlyDictionary<string, double> Evaluate(Array x, Array y, int batchSize = 32, int verbose = 1,
        Array? sampleWeight = null, IReadOnlyList<Callback>? callbacks = null)
    {
        using var scope = torch.NewDisposeScope();
        return Evaluate(TensorData.FromArray(x, nameof(x)), TensorData.FromArray(y, nameof(y)), batchSize, verbose,
            sampleWeight is null ? null : TensorData.FromArray(sampleWeight, nameof(sampleWeight)), callbacks);
    }

    /// <summary>One gradient step on one batch, inside its own dispose scope.</summary>
    private void TrainStep(Dataset data, Tensor? order, long start, long count, Optimizer optimizer, Loss loss,
        IReadOnlyList<Parameter> variables, LossTracker tracker)
    {
        using var scope = torch.NewDisposeScope();
        var (xb, yb, wb) = data.Batch(order, start, count);
        Tensor prediction;
        using var activity = Regularizers.ActivityPenalties.Begin();
        // Training mode for this call only (Keras's training=True); the model's flag stays as it is.
        using (CallMode.Use(training: true))
            prediction = forward(xb);
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
        tracker.Add(value.ToDouble(), count);
        using var _ = torch.no_grad();
        var detached = prediction.detach();
        foreach (var metric in _metrics)
            metric.UpdateState(yb, detached, wb);
    }

    /// <summary>
    /// One data-parallel step: this rank's share of the global batch forward and backward, the gradients
    /// weighted by the share and summed over the ranks, then the same optimizer step on every rank.
    /// </summary>
    private void DistributedTrainStep(DataParallel distribution, Dataset data, Tensor? order, long start, long count, Optimizer optimizer, Loss loss,
        IReadOnlyList<Parameter> variables, LossTracker tracker)
    {
        using var scope = torch.NewDisposeScope();
        var (offset, local) = distribution.Share(count);
        Exception? failure = null;
        double localLoss = 0;
        (Tensor X, Tensor Y, Tensor? W) batch = default;
        Tensor? prediction = null;
        foreach (var v in variables)
            v.grad = null;
        try
        {
            if (local > 0)
            {
                batch = data.Batch(order, start + offset, local);
                using var activity = Regularizers.ActivityPenalties.Begin();
                using (CallMode.Use(training: true))
                    prediction = forward(batch.X);
                var value = WithRegularization(loss.Call(batch.Y, prediction, batch.W), activity);
                if (variables.Count > 0)
                    BackwardFailure.Backward(value);
                localLoss = value.ToDouble();
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            failure = e;
        }
        double globalLoss = distribution.AllreduceGradients(variables, localLoss, local, count, failure);
        if (variables.Count > 0)
        {
            optimizer.Step(variables);
            ApplyConstraints();
        }
        tracker.Add(globalLoss, count);
        if (prediction is null)
            return;
        using var _ = torch.no_grad();
        var detached = prediction.detach();
        foreach (var metric in _metrics)
            metric.UpdateState(batch.Y!, detached, batch.W);
    }

    /// <summary>The distribution when it spans several processes, else null (a world of one trains as if alone).</summary>
    private static DataParallel? Distributed(DataParallel? distribution) => distribution is { WorldSize: > 1 } ? distribution : null;

    /// <summary>Logs over all ranks: the metrics' totals summed into rank 0's, then rank 0's logs everywhere.</summary>
    private Dictionary<string, double> GlobalLogs(DataParallel? distribution, LossTracker tracker, double[]? lossTotals = null)
    {
        if (distribution is null)
            return CurrentLogs(tracker, "");
        var totals = lossTotals ?? [0, 0];
        distribution.ReduceTotals(totals, _metrics);
        if (lossTotals is not null)
            tracker.Set(totals[0], totals[1]);
        return distribution.BroadcastLogs(CurrentLogs(tracker, ""));
    }

    /// <summary>The evaluation loop shared by <see cref="Evaluate(Tensor, Tensor, int, int, Tensor?, IReadOnlyList{Callback}?)"/> and Fit's validation.</summary>
    private Dictionary<string, double> RunEvaluation(Dataset data, int batchSize, CallbackList callbacks, Loss loss, DataParallel? distribution = null)
    {
        // Inference mode for these calls only: the model's flag stays as it is (another thread may be predicting).
        using var mode = CallMode.Use(training: false);
        ResetMetrics();
        var tracker = new LossTracker();
        callbacks.TestBegin(new Dictionary<string, double>());
        int steps = data.Batches(batchSize);
        using var _ = torch.no_grad();
        for (int step = 0; step < steps; step++)
        {
            callbacks.TestBatchBegin(step, new Dictionary<string, double>());
            using (var scope = torch.NewDisposeScope())
            {
                long start = (long)step * batchSize;
                long count = Math.Min(batchSize, data.Count - start);
                if (distribution is not null)
                    (start, count) = (start + distribution.Share(count).Start, distribution.Share(count).Count);
                if (count > 0)
                {
                    var (xb, yb, wb) = data.Batch(null, start, count);
                    using var activity = Regularizers.ActivityPenalties.Begin();
                    var prediction = forward(xb);
                    tracker.Add(WithRegularization(loss.Call(yb, prediction, wb), activity).ToDouble(), count);
                    foreach (var metric in _metrics)
                        metric.UpdateState(yb, prediction, wb);
                }
            }
            callbacks.TestBatchEnd(step, CurrentLogs(tracker, ""));
        }
        var logs = distribution is null ? CurrentLogs(tracker, "") : GlobalLogs(distribution, tracker, tracker.Totals());
        callbacks.TestEnd(logs);
        return logs;
    }

    private Dictionary<string, double> CurrentLogs(LossTracker tracker, string prefix)
    {
        var logs = new Dictionary<string, double>(StringComparer.Ordinal) { [prefix + "loss"] = tracker.Result };
        foreach (var metric in _metrics)
        {
            foreach (var (key, value) in metric.LogEntries())
                logs[prefix + key] = value;
        }
        return logs;
    }

    private void ResetMetrics()
    {
        foreach (var metric in _metrics)
            metric.ResetState();
    }

    /// <summary>Keras's order: the progress bar first, the user's callbacks, the logger, the History last.</summary>
    private CallbackList DefaultCallbacks(IReadOnlyList<Callback>? callbacks, int verbose, History? history, Dictionary<string, object> parameters)
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
    private static bool WritesFiles(Callback callback) => callback is ProgbarLogger or ModelCheckpoint or CSVLogger or TensorBoard;

    private (Optimizer Optimizer, Loss Loss) RequireCompiled(string method)
    {
        if (_optimizer is null)
            throw new InvalidOperationException($"You must call Compile() before calling {method}().");
        if (_loss is null)
            throw new InvalidOperationException($"No loss to compute. Provide a loss argument in Compile() before calling {method}().");
        return (_optimizer, _loss);
    }

    private static void RequirePositive(int batchSize, string name)
    {
        if (batchSize <= 0)
            throw new ArgumentOutOfRangeException(name, batchSize, $"Expected a positive batch size. Received: {name}={batchSize}.");
    }

    private static void RequireVerbose(int verbose)
    {
        if (verbose is < 0 or > 2)
            throw new ArgumentOutOfRangeException(nameof(verbose), verbose, $"Expected verbose 0 (silent), 1 (progress bar) or 2 (one line per epoch). Received: verbose={verbose}.");
    }

    /// <summary>Running mean of batch losses weighted by batch size (Keras's loss tracker).</summary>
    private sealed class LossTracker
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
