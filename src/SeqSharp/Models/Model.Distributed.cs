using SeqSharp.Callbacks;
using SeqSharp.Data;
using SeqSharp.Distributed;
using SeqSharp.Layers.Kernels;
using SeqSharp.Layers;
using SeqSharp.Losses;
using SeqSharp.Optimizers;
using SeqSharp.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp;

/// <summary>Data-parallel training and evaluation over several processes (<see cref="DataParallel"/>).</summary>
public partial class Model
{
    /// <summary>The gradient buckets to start during backward (data parallel with overlap), and the thread whose forward marks layers.</summary>
    private protected GradientReduction? _gradientTap;
    private protected int _gradientTapThread;

    /// <summary>The mark on a layer's input that starts gradient sums during backward, when this thread's step overlaps them.</summary>
    private protected Tensor MarkForGradients(Tensor x, int layer) =>
        _gradientTap is { } tap && layer > 0 && x.requires_grad && Environment.CurrentManagedThreadId == _gradientTapThread ? tap.Mark(x, layer) : x;

    /// <summary>The position of a variable's layer in the model, which orders the gradient buckets (last layer first); 0 when the model does not say.</summary>
    private protected virtual int LayerPosition(Parameter variable) => 0;

    /// <summary>The distribution when it spans several processes, else null (a world of one trains as if alone).</summary>
    private protected static DataParallel? Distributed(DataParallel? distribution) => distribution is { WorldSize: > 1 } ? distribution : null;

    /// <summary>
    /// The training loop of a data-parallel run: the adapters give this rank's share of every global batch, every
    /// collective call is made by every rank in the same order, and whatever fails on one rank (a source, a batch
    /// check, a step) stops every rank with an exception rather than leaving the others waiting.
    /// </summary>
    private protected History RunFitDistributed(DataParallel ranks, EpochIterator trainData, EpochIterator? validation, int epochs, int initialEpoch, int verbose,
        IReadOnlyList<Callback>? callbacks, IReadOnlyDictionary<int, double>? classWeight, CancellationToken cancellationToken)
    {
        var (optimizer, loss) = RequireCompiled(nameof(Fit));
        // A built model starts from rank 0's weights now; one built by its first batch does when that batch comes.
        IReadOnlyList<Parameter>? variables = Built ? StartRanks(ranks, optimizer, null, null) : null;

        var (history, list) = FitCallbacks(trainData, epochs, verbose, callbacks);

        // A stream's end is only known when it comes: the ranks agree on it at every step.
        bool streamed = !trainData.Adapter.Indexable;
        StopTraining = false;
        IDictionary<string, double> epochLogs = new Dictionary<string, double>();
        list.TrainBegin(new Dictionary<string, double>());
        bool wasTraining = training;
        try
        {
            for (int epoch = initialEpoch; epoch < epochs && !StopTraining; epoch++)
            {
                ResetMetrics();
                var tracker = new LossTracker();
                list.EpochBegin(epoch, new Dictionary<string, double>());
                using (var batches = trainData.Epoch().GetEnumerator())
                {
                    for (int step = 0; ; step++)
                    {
                        FetchedBatch? fetched = null;
                        Exception? failure = null;
                        bool more;
                        try
                        {
                            more = batches.MoveNext();
                            if (more)
                                fetched = batches.Current;
                        }
                        catch (Exception e) when (e is not OutOfMemoryException)
                        {
                            (failure, more) = (e, true);
                        }
                        using (fetched)
                        {
                            if (streamed)
                                more = ranks.AllHaveBatch(more, step);
                            if (!more)
                                break;
                            list.TrainBatchBegin(step, new Dictionary<string, double>());
                            using (var scope = torch.NewDisposeScope())
                                variables = DistributedStep(ranks, trainData.Adapter.Checked, fetched?.Batch, failure, step, optimizer, loss, classWeight, variables, tracker);
                            list.TrainBatchEnd(step, CurrentLogs(tracker, ""));
                        }
                        if (AgreeToStop(ranks, cancellationToken))
                            break;
                    }
                }
                epochLogs = GlobalLogs(ranks, tracker);
                if (validation is not null)
                    AddValidationLogs(epochLogs, validation, () => RunEvaluationDistributed(ranks, validation, list, loss, cancellationToken));
                list.EpochEnd(epoch, epochLogs);
                AgreeToStop(ranks, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (_cancelledEverywhere)
        {
            // As single-process Fit: the end-of-training hooks still run, then the caller learns of the cancellation.
            _cancelledEverywhere = false;
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

    private bool _cancelledEverywhere;

    /// <summary>StopTraining set on any rank stops every rank; a cancelled token on any rank cancels every rank.</summary>
    private bool AgreeToStop(DataParallel ranks, CancellationToken cancellationToken)
    {
        bool cancelled;
        (bool stop, cancelled) = ranks.AnyRank(StopTraining, cancellationToken.IsCancellationRequested);
        StopTraining = stop;
        if (cancelled)
        {
            _cancelledEverywhere = true;
            throw new OperationCanceledException(cancellationToken.IsCancellationRequested ? "Training was cancelled." : "Training was cancelled on another rank.", cancellationToken);
        }
        return stop;
    }

    /// <summary>
    /// Builds the optimizer (and the model, from a first batch, when it is not built yet) on every rank, then
    /// copies rank 0's weights and optimizer state to every rank. A rank that fails stops every rank.
    /// </summary>
    private protected List<Parameter> StartRanks(DataParallel ranks, Optimizer optimizer, Tensor? x, Exception? failure)
    {
        List<Parameter>? variables = null;
        if (failure is null)
        {
            try
            {
                if (x is not null)
                    BuildFor(x);
                variables = BuildOptimizer(optimizer);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failure = e;
            }
        }
        ranks.Agree(failure, "starting training");
        ranks.BroadcastTensors(UniqueLayers.SelectMany(l => l.Weights));
        var state = optimizer.Variables;
        ranks.BroadcastTensors(state);
        optimizer.SetVariables(state);
        return variables!;
    }

    /// <summary>
    /// One data-parallel step: this rank's share of the global batch forward and backward, the gradients summed over
    /// the ranks (weighted by each rank's share), then the same optimizer step on every rank.
    /// </summary>
    private protected IReadOnlyList<Parameter> DistributedStep(DataParallel ranks, bool isChecked, Batch? batch, Exception? failure, int step,
        Optimizer optimizer, Loss loss, IReadOnlyDictionary<int, double>? classWeight, IReadOnlyList<Parameter>? variables, LossTracker tracker)
    {
        (Tensor X, Tensor Y, Tensor? W) data = (null!, null!, null);
        long local = 0;
        if (failure is null && batch is { } b)
        {
            try
            {
                // A rank's share of a small last batch may be empty: it then only takes part in the sums.
                if (b.X is not { } x || x.dim() == 0 || x.shape[0] > 0)
                {
                    data = isChecked ? Unpack(b) : CheckBatch(b, step, "training", loss, classWeight);
                    local = data.X.shape[0];
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failure = e;
            }
        }
        variables ??= StartRanks(ranks, optimizer, local > 0 ? data.X : batch?.X, failure);

        double localLoss = 0;
        Tensor? prediction = null;
        foreach (var v in variables)
            v.grad = null;
        var reduction = ranks.ReductionFor(variables, LayerPosition);
        reduction.Begin(failure is null ? local : 0);
        if (failure is null && local > 0)
        {
            try
            {
                // With overlap, the forward pass marks each layer's input; backward starts the sums there.
                if (ranks.OverlapGradients)
                    (_gradientTap, _gradientTapThread) = (reduction, Environment.CurrentManagedThreadId);
                using var activity = Regularizers.ActivityPenalties.Begin();
                using (CallMode.Use(training: true))
                    prediction = forward(data.X);
                var value = WithRegularization(loss.Call(data.Y, prediction, data.W), activity);
                if (variables.Count > 0)
                    BackwardFailure.Backward(value);
                localLoss = value.ToDouble();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failure = e;
            }
            finally
            {
                _gradientTap = null;
            }
        }
        var (globalLoss, count) = ranks.FinishStep(reduction, localLoss, local, failure);
        if (count == 0)
            throw new DistributedTrainingException($"Batch {step} of the training data has no samples on any rank.");
        if (variables.Count > 0)
        {
            optimizer.Step(variables);
            ApplyConstraints();
        }
        tracker.Add(globalLoss, count);
        if (prediction is null)
            return variables;
        using var _ = torch.no_grad();
        var detached = prediction.detach();
        foreach (var metric in _metrics)
            metric.UpdateState(data.Y, detached, data.W);
        return variables;
    }

    /// <summary>
    /// The evaluation loop of a data-parallel run (Evaluate and Fit's validation): each rank evaluates its share of
    /// every batch, the loss and metric totals are summed over the ranks at the end, and every rank reports rank 0's
    /// logs. A failure on any rank stops every rank at the end of the run, with an exception.
    /// </summary>
    private protected Dictionary<string, double> RunEvaluationDistributed(DataParallel ranks, EpochIterator data, CallbackList callbacks, Loss loss,
        CancellationToken cancellationToken)
    {
        bool wasTraining = training;
        using var mode = CallMode.Use(training: false);
        var tracker = new LossTracker();
        Exception? failure = null;
        bool cancelled = false;
        int step = 0;
        try
        {
            ResetMetrics();
            callbacks.TestBegin(new Dictionary<string, double>());
            using (torch.no_grad())
            using (var batches = data.Epoch().GetEnumerator())
            {
                while (true)
                {
                    try
                    {
                        if (!batches.MoveNext())
                            break;
                        using var fetched = batches.Current;
                        if (cancellationToken.IsCancellationRequested)
                        {
                            cancelled = true;
                            break;
                        }
                        callbacks.TestBatchBegin(step, new Dictionary<string, double>());
                        var batch = fetched.Batch;
                        if (batch.X is not { } x || x.dim() == 0 || x.shape[0] > 0)
                        {
                            using var scope = torch.NewDisposeScope();
                            var (xb, yb, wb) = data.Adapter.Checked ? Unpack(batch) : CheckBatch(batch, step, "evaluation", loss, null);
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
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        failure = e;
                        break;
                    }
                }
            }
            try
            {
                ranks.CheckEvaluation(failure, cancelled, step);
            }
            catch (OperationCanceledException)
            {
                callbacks.TestEnd(CurrentLogs(tracker, ""));
                throw;
            }
            var logs = GlobalLogs(ranks, tracker, tracker.Totals());
            callbacks.TestEnd(logs);
            return logs;
        }
        finally
        {
            train(wasTraining);
        }
    }

    /// <summary>Logs over all ranks: the metrics' totals summed into rank 0's, then rank 0's logs everywhere.</summary>
    private protected Dictionary<string, double> GlobalLogs(DataParallel? distribution, LossTracker tracker, double[]? lossTotals = null)
    {
        if (distribution is null)
            return CurrentLogs(tracker, "");
        var totals = lossTotals ?? [0, 0];
        distribution.ReduceTotals(totals, _metrics);
        if (lossTotals is not null)
            tracker.Set(totals[0], totals[1]);
        return distribution.BroadcastLogs(CurrentLogs(tracker, ""));
    }
}
