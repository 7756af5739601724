using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using SeqSharp.Metrics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Distributed;

/// <summary>
/// Data-parallel training over MPI, as Horovod and Keras 3's <c>DataParallel</c> do it: every rank
/// holds the whole model, takes its share of every global batch, and the gradients are averaged
/// over all ranks before each optimizer step, so every rank makes the same step.
/// </summary>
/// <remarks>
/// <para>Started by <c>mpirun -np N dotnet MyTraining.dll</c> (or Slurm's <c>srun --mpi=pmix</c>), the
/// constructor joins MPI_COMM_WORLD through the launcher's MPI library (Open MPI or MPICH). Started
/// any other way it is a world of one and loads no MPI library, so the same script runs alone.</para>
/// <para>With a distribution set (<see cref="Distribution.Set"/>), <c>Fit</c>:</para>
/// <list type="bullet">
/// <item>starts every rank from rank 0's weights and optimizer state, and shuffles with rank 0's order;</item>
/// <item>treats <c>batchSize</c> as the global batch: rank r takes rows [r·B/N, (r+1)·B/N) of each batch (the
/// first B mod N ranks one more), so the last, partial batch is split too;</item>
/// <item>weights each rank's gradient by its share of the batch and sums them in fused buckets of
/// <see cref="BucketBytes"/> (one MPI call per bucket, not one per weight), so the step equals the
/// step on the whole batch in one process up to float rounding;</item>
/// <item>reports global losses and metrics (every rank gets rank 0's logs, so EarlyStopping,
/// ReduceLROnPlateau and TerminateOnNaN decide the same everywhere); only rank 0 runs the progress
/// bar and the callbacks that write files (ModelCheckpoint, CSVLogger, TensorBoard);</item>
/// <item>stops every rank with an exception when one rank fails in a training step, and ends the
/// whole run (MPI_Abort) when a collective call waits longer than <see cref="CollectiveTimeout"/>.</item>
/// </list>
/// </remarks>
public sealed class DataParallel : IDisposable
{
    private readonly Timer _watchdog;
    private readonly int _thread = Environment.CurrentManagedThreadId;
    private GradientReduction? _reduction;
    private string _pending = "";

    /// <summary>Joins MPI if a launcher started this process, else makes a world of one.</summary>
    /// <param name="bucketBytes">Gradient bytes per allreduce call (Horovod's fusion buffer); default 16 MiB.</param>
    /// <param name="collectiveTimeout">How long a collective call may wait for the other ranks before the run is aborted; default 10 minutes.</param>
    /// <param name="logger">Where rank-level events go; default none.</param>
    /// <exception cref="ArgumentOutOfRangeException">A bucket under 1 KiB or a non-positive timeout.</exception>
    public DataParallel(int bucketBytes = 16 << 20, TimeSpan? collectiveTimeout = null, ILogger? logger = null)
        : this(MpiCommunicator.Launched() ? MpiCommunicator.Open() : new LocalCommunicator(), bucketBytes, collectiveTimeout, logger)
    {
    }

    /// <summary>Data parallelism over a given communicator (for tests and custom launchers).</summary>
    /// <inheritdoc cref="DataParallel(int, TimeSpan?, ILogger?)"/>
    public DataParallel(Communicator communicator, int bucketBytes = 16 << 20, TimeSpan? collectiveTimeout = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        if (bucketBytes < 1024)
            throw new ArgumentOutOfRangeException(nameof(bucketBytes), bucketBytes, $"Expected a bucket of at least 1024 bytes. Received: bucketBytes={bucketBytes}.");
        var timeout = collectiveTimeout ?? TimeSpan.FromMinutes(10);
        if (timeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(collectiveTimeout), timeout, "Expected a positive timeout.");
        Communicator = communicator;
        BucketBytes = bucketBytes;
        CollectiveTimeout = timeout;
        Logger = logger;
        _watchdog = new Timer(_ => TimedOut(), null, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>The group of processes.</summary>
    public Communicator Communicator { get; }

    /// <summary>This process's rank, from 0.</summary>
    public int Rank => Communicator.Rank;

    /// <summary>The number of ranks.</summary>
    public int WorldSize => Communicator.Size;

    /// <summary>Whether this is rank 0, the one that reports and writes files.</summary>
    public bool IsChief => Rank == 0;

    /// <summary>Gradient bytes per allreduce call.</summary>
    public int BucketBytes { get; }

    /// <summary>How long one collective call may wait before the whole run is aborted.</summary>
    public TimeSpan CollectiveTimeout { get; }

    /// <summary>Allreduce calls made for gradients so far (buckets), for diagnostics.</summary>
    public long GradientCalls { get; private set; }

    /// <summary>
    /// Whether to start summing a bucket of gradients during the backward pass, as soon as the layers it holds
    /// have their gradients (PyTorch DDP's overlap), rather than after it; off by default.
    /// </summary>
    /// <remarks>
    /// <para>Only <c>Sequential</c> models are marked layer by layer; other models sum after backward either way.
    /// The result is the same, bit for bit on every rank: only the moment the sums start changes. The sums are
    /// MPI_Iallreduce calls made from the training thread (MPI_THREAD_FUNNELED) when backward reaches each layer.</para>
    /// <para>It can only help when the network, not the processors, is the bottleneck: on one machine the ranks
    /// sum through shared memory with the same cores that compute, and Open MPI advances a started sum only
    /// inside MPI calls. docs/distributed.md has the measurements.</para>
    /// </remarks>
    public bool OverlapGradients { get; init; }

    /// <summary>Gradient buckets whose sums started during backward (with <see cref="OverlapGradients"/>), for diagnostics.</summary>
    public long OverlappedCalls => _reduction?.OverlappedBuckets ?? 0;

    /// <summary>Whether the caller is on the thread that makes this distribution's MPI calls.</summary>
    internal bool OnMpiThread => Environment.CurrentManagedThreadId == _thread;

    /// <summary>
    /// Time this rank spent in gradient sums so far: copying into the buckets, starting them and waiting for them
    /// (not the time a started sum ran in the background), for diagnostics.
    /// </summary>
    public TimeSpan GradientTime => TimeSpan.FromTicks((long)(_gradientTicks * (double)TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency));

    private long _gradientTicks;

    internal void CountGradientCall() => GradientCalls++;

    internal void AddGradientTime(long stopwatchTicks) => _gradientTicks += stopwatchTicks;

    private ILogger? Logger { get; }

    /// <summary>Rank <paramref name="rank"/>'s rows of a global batch of <paramref name="count"/>: (offset, count).</summary>
    public (long Start, long Count) Share(long count, int? rank = null)
    {
        int r = rank ?? Rank;
        long size = WorldSize;
        long baseCount = count / size, extra = count % size;
        long start = r * baseCount + Math.Min(r, extra);
        return (start, baseCount + (r < extra ? 1 : 0));
    }

    /// <summary>Copies rank 0's values of these tensors to every rank (weights, optimizer state).</summary>
    public void BroadcastTensors(IEnumerable<Tensor> tensors)
    {
        if (WorldSize == 1)
            return;
        foreach (var t in tensors)
        {
            using var _ = no_grad();
            if (t.is_contiguous() && t.device_type == DeviceType.CPU)
            {
                using (Guard("broadcast of weights"))
                    Communicator.Broadcast(t.bytes);
            }
            else
            {
                var staging = t.contiguous().cpu().clone();
                using (Guard("broadcast of weights"))
                    Communicator.Broadcast(staging.bytes);
                t.copy_(staging);
            }
        }
    }

    /// <summary>Rank 0's int64 tensor (e.g. a shuffle order) on every rank; other ranks' tensor must have the same shape.</summary>
    public Tensor BroadcastIndices(Tensor order)
    {
        if (WorldSize == 1)
            return order;
        var copy = order.to_type(ScalarType.Int64).contiguous().clone();
        using (Guard("broadcast of the shuffle order"))
            Communicator.Broadcast(copy.bytes);
        return copy;
    }

    /// <summary>Rank 0's order of batch indices on every rank (other ranks' arrays must have the same length).</summary>
    internal void BroadcastOrder(int[] order)
    {
        if (WorldSize == 1)
            return;
        using (Guard("broadcast of the batch order"))
            Communicator.Broadcast(MemoryMarshal.AsBytes(order.AsSpan()));
    }

    /// <summary>The gradient buckets for these variables (made once per list of variables and kept).</summary>
    /// <param name="variables">The trainable variables.</param>
    /// <param name="layerOf">Each variable's layer position, which orders the buckets (last layer first).</param>
    internal GradientReduction ReductionFor(IReadOnlyList<Parameter> variables, Func<Parameter, int> layerOf)
    {
        if (_reduction is null || !_reduction.Source.SequenceEqual(variables, ReferenceEqualityComparer.Instance))
            _reduction = new GradientReduction(this, variables, layerOf);
        return _reduction;
    }

    /// <summary>
    /// Ends a step: sums <c>gradient · localCount</c> over the ranks (the buckets not started during backward
    /// start now), exchanges the step's status (loss, count, failure), and writes every variable's gradient as the
    /// sum divided by the global count: the gradient of the mean loss over the global batch. A rank that failed
    /// sends zeros and says so, and then every rank throws before any optimizer step.
    /// </summary>
    /// <returns>The global batch loss and the global batch's sample count.</returns>
    internal (double Loss, long Count) FinishStep(GradientReduction reduction, double localLoss, long localCount, Exception? failure)
    {
        if (failure is not null)
            reduction.Fail();
        reduction.Finish();
        bool contributes = failure is null && localCount > 0;
        var status = new[] { contributes ? localLoss * localCount : 0.0, failure is null ? localCount : 0.0, failure is null ? 0.0 : 1.0, failure is null ? 0.0 : Rank + 1.0 };
        using (Guard("allreduce of the step's status"))
            Communicator.AllreduceSum(status.AsSpan());
        if (status[2] > 0)
        {
            if (failure is not null)
                throw new DistributedTrainingException($"Rank {Rank} failed in a training step: {failure.Message}", failure);
            throw new DistributedTrainingException(
                $"{status[2]:0} other rank(s) failed in a training step (e.g. rank {Math.Max(0, status[3] - 1):0} if one); every rank stops. See the failing rank's own error.");
        }
        long count = (long)status[1];
        if (count > 0)
            reduction.Apply(count);
        return (count == 0 ? 0 : status[0] / count, count);
    }

    /// <summary>
    /// Whether every rank has another batch of a stream: true when all do, false when none does; ranks whose
    /// streams end at different batches (sources that are not the same on every rank) all throw.
    /// </summary>
    internal bool AllHaveBatch(bool hasBatch, int step)
    {
        var flags = new[] { hasBatch ? 1.0 : 0.0, hasBatch ? 0.0 : 1.0 };
        using (Guard("allreduce of the end-of-data flags"))
            Communicator.AllreduceMax(flags.AsSpan());
        if (flags[0] > 0 && flags[1] > 0)
            throw new DistributedTrainingException(
                $"The ranks' batch sources ended at different batches: this rank {(hasBatch ? "has" : "has no")} batch {step}, another rank {(hasBatch ? "has none" : "has one")}. " +
                "In data-parallel training every rank must read the same stream of global batches (each keeps its share of each), or use an indexable BatchDataset.");
        return flags[0] > 0;
    }

    /// <summary>
    /// Whether every rank got through <paramref name="what"/>: a rank that failed rethrows its own exception, the
    /// others throw <see cref="DistributedTrainingException"/>, so no rank goes on alone.
    /// </summary>
    internal void Agree(Exception? failure, string what)
    {
        var value = new[] { failure is null ? 0.0 : Rank + 1.0 };
        using (Guard($"allreduce of the status of {what}"))
            Communicator.AllreduceMax(value.AsSpan());
        if (failure is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        if (value[0] > 0)
            throw new DistributedTrainingException($"Rank {value[0] - 1:0} failed in {what}; every rank stops. See that rank's own error.");
    }

    /// <summary>
    /// After an evaluation run: every rank throws if any rank failed or was cancelled, or if the ranks evaluated
    /// different numbers of batches (streams that differ between ranks).
    /// </summary>
    internal void CheckEvaluation(Exception? failure, bool cancelled, int steps)
    {
        var values = new[] { failure is null ? 0.0 : Rank + 1.0, cancelled ? 1.0 : 0.0, steps, -steps };
        using (Guard("allreduce of the evaluation's status"))
            Communicator.AllreduceMax(values.AsSpan());
        if (failure is not null)
            throw new DistributedTrainingException($"Rank {Rank} failed in an evaluation: {failure.Message}", failure);
        if (values[0] > 0)
            throw new DistributedTrainingException($"Rank {values[0] - 1:0} failed in an evaluation; every rank stops. See that rank's own error.");
        if (values[1] > 0)
            throw new OperationCanceledException(cancelled ? "The evaluation was cancelled." : "The evaluation was cancelled on another rank.");
        if (values[2] != -values[3])
            throw new DistributedTrainingException(
                $"The ranks evaluated different numbers of batches (from {-values[3]:0} to {values[2]:0}; this rank {steps}): in data-parallel evaluation every rank must read the same global batches.");
    }

    /// <summary>Sums (loss · count, count) and every metric's running totals over the ranks into rank 0's.</summary>
    internal void ReduceTotals(double[] lossTotals, IReadOnlyList<Metric> metrics)
    {
        if (WorldSize == 1)
            return;
        using (Guard("allreduce of the epoch's loss"))
            Communicator.AllreduceSum(lossTotals.AsSpan());
        var states = metrics.Select(m => m.SummableState()).ToArray();
        var lengths = states.Select(s => (double)(s?.Length ?? 0)).ToArray();
        if (lengths.Length > 0)
            using (Guard("allreduce of the metrics' sizes"))
                Communicator.AllreduceMax(lengths.AsSpan());
        for (int i = 0; i < metrics.Count; i++)
        {
            int length = (int)lengths[i];
            if (length == 0)
                continue;
            var state = states[i] is { } s && s.Length == length ? s : new double[length];
            using (Guard("allreduce of metric totals"))
                Communicator.AllreduceSum(state.AsSpan());
            if (states[i] is not null)
                metrics[i].LoadSummableState(state);
        }
    }

    /// <summary>Rank 0's values for these keys on every rank (keys are the same everywhere: the same metrics).</summary>
    internal Dictionary<string, double> BroadcastLogs(IDictionary<string, double> logs)
    {
        if (WorldSize == 1)
            return new Dictionary<string, double>(logs);
        var keys = logs.Keys.Order(StringComparer.Ordinal).ToArray();
        var values = keys.Select(k => logs[k]).ToArray();
        using (Guard("broadcast of the logs"))
            Communicator.Broadcast(MemoryMarshal.AsBytes(values.AsSpan()));
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int i = 0; i < keys.Length; i++)
            result[keys[i]] = values[i];
        return result;
    }

    /// <summary>Whether any rank wants to stop (a callback set StopTraining there), and whether any rank's training was cancelled.</summary>
    internal (bool Stop, bool Cancelled) AnyRank(bool stop, bool cancelled)
    {
        if (WorldSize == 1)
            return (stop, cancelled);
        var values = new[] { stop ? 1.0 : 0.0, cancelled ? 1.0 : 0.0 };
        using (Guard("allreduce of the stop flags"))
            Communicator.AllreduceMax(values.AsSpan());
        return (values[0] > 0, values[1] > 0);
    }

    /// <summary>Leaves MPI (MPI_Finalize) and stops following this distribution.</summary>
    public void Dispose()
    {
        if (ReferenceEquals(Distribution.Current, this))
            Distribution.Set(null);
        _watchdog.Dispose();
        Communicator.Dispose();
    }

    /// <summary>Arms the watchdog for one collective call; disposing disarms it.</summary>
    internal WatchdogScope Guard(string what)
    {
        _pending = what;
        _watchdog.Change(CollectiveTimeout, Timeout.InfiniteTimeSpan);
        return new WatchdogScope(_watchdog);
    }

    internal readonly struct WatchdogScope(Timer watchdog) : IDisposable
    {
        public void Dispose() => watchdog.Change(Timeout.Infinite, Timeout.Infinite);
    }

    private void TimedOut()
    {
        string message = $"SeqSharp DataParallel: rank {Rank}/{WorldSize} waited more than {CollectiveTimeout} in the {_pending}; " +
            "another rank has stopped taking part (it failed outside a training step, or hangs). Aborting the whole run.";
        Logger?.LogCritical(message);
        Console.Error.WriteLine(message);
        Communicator.Abort(75);
    }
}

/// <summary>A rank of a data-parallel run failed, so every rank stops.</summary>
public sealed class DistributedTrainingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DistributedTrainingException(string message, Exception? inner = null) : base(message, inner) { }
}
