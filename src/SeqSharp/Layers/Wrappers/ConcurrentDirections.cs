using System.Runtime.ExceptionServices;
using SeqSharp.Layers.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Runs the two directions of a <see cref="Bidirectional"/> call at the same time: the first on the
/// calling thread, the second on a thread-pool thread, each running its kernel's batch slices one
/// after the other on its own thread (<see cref="BatchParallel.Inline{T}"/>), so that each direction
/// keeps one core and the results are those of the serial run, bit for bit: every slice computes
/// the same rows with the same products as when the slices run in parallel.
/// </summary>
/// <remarks>
/// <para>What the worker thread needs from the caller's thread is carried over explicitly: LibTorch's
/// gradient mode is per thread (so an inference call stays without gradients and a training call
/// records its graph), so is the training mode that <c>Fit</c>, <c>Evaluate</c> and <c>Predict</c>
/// set for their calls (<see cref="CallMode"/>), and TorchSharp's dispose scopes are per thread. The worker runs inside its own
/// scope; its tensors are handed to the caller's scope after it has finished, so that a training
/// step's or prediction's scope disposes them exactly as it disposes those of a serial call.</para>
/// <para>The worker is always waited for once it has started, also when the caller's direction
/// throws; the first failure is rethrown with its original stack. A worker that has not started when
/// the caller's direction is done does nothing, and the caller runs the second direction itself: on
/// a machine whose cores are all busy, waiting for a pool thread to be scheduled cost more than the
/// direction itself (measured: 3.7 ms against 0.8 ms for a serial call of shape S under a load of
/// 48 on 2 cores). Backward passes are not affected: LibTorch's engine
/// runs them on the thread that called <c>backward()</c>, one node after the other, and each
/// direction's backward uses both cores through its batch slices as usual.</para>
/// </remarks>
internal static class ConcurrentDirections
{
    /// <summary>Whether <see cref="Bidirectional"/> may run its directions at the same time (tests and benchmarks compare both ways).</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>
    /// Whether the caller runs the second direction itself when the worker has not started by the
    /// time the first is done (true); tests set false so that the worker always runs it.
    /// </summary>
    internal static bool CallerMayTakeOver { get; set; } = true;

    /// <summary>Receives the tensors made on the worker when they are handed to the caller's scope (for tests).</summary>
    internal static Action<IReadOnlyList<IDisposable>>? HandedOver { get; set; }

    /// <summary>
    /// Runs <paramref name="first"/> here and <paramref name="second"/> on a pool thread, at the same
    /// time; when no pool thread has picked <paramref name="second"/> up by the time
    /// <paramref name="first"/> is done (a busy machine), it runs here too.
    /// </summary>
    public static (T First, T Second) Run<T>(Func<T> first, Func<T> second)
    {
        bool gradients = torch.is_grad_enabled();
        bool? training = CallMode.Current;
        // The caller's tensors and, once the worker is done, the worker's, gathered here and then
        // moved to the caller's own scope (or left outside any scope, as a serial call leaves them).
        using var gathered = torch.NewDisposeScope();
        IReadOnlyList<IDisposable> workerTensors = [];
        int owner = 0;   // who runs the second direction: 0 nobody yet, 1 the worker, 2 the caller
        var worker = Task.Run(() =>
        {
            if (Interlocked.CompareExchange(ref owner, 1, 0) != 0)
                return default(T)!;
            using var mode = torch.enable_grad(gradients);
            using var callMode = training is bool t ? CallMode.Use(t) : default(CallMode.Scope?);
            using var scope = torch.NewDisposeScope();
            try
            {
                return BatchParallel.Inline(second);
            }
            finally
            {
                workerTensors = scope.DisposablesView;
                scope.Detach(workerTensors);
            }
        });
        T here = default!, there = default!;
        ExceptionDispatchInfo? failure = null;
        try
        {
            here = BatchParallel.Inline(first);
        }
        catch (Exception e)
        {
            failure = ExceptionDispatchInfo.Capture(e);
        }
        if (CallerMayTakeOver && Interlocked.CompareExchange(ref owner, 2, 0) == 0)
        {
            // Not started: the pool is busy. Running it here costs what the serial run costs.
            if (failure is null)
            {
                try
                {
                    there = BatchParallel.Inline(second);
                }
                catch (Exception e)
                {
                    failure = ExceptionDispatchInfo.Capture(e);
                }
            }
        }
        else
        {
            try
            {
                there = worker.Result!;
            }
            catch (AggregateException e)
            {
                failure ??= ExceptionDispatchInfo.Capture(e.InnerException ?? e);
            }
        }
        foreach (var tensor in workerTensors)
            gathered.Attach(tensor);
        HandedOver?.Invoke(workerTensors);
        gathered.MoveToOuter(gathered.DisposablesView);
        failure?.Throw();
        return (here, there);
    }
}
