namespace SeqSharp.Layers.Kernels;

/// <summary>
/// Runs a recurrent kernel's time loop on slices of the batch in parallel. Batch rows never
/// interact in a recurrent layer (row b of step t depends only on row b of step t-1), so each
/// thread can run the whole sequence for its rows with no synchronisation between steps, and the
/// per-step products of each slice run single-threaded in the BLAS.
/// </summary>
internal static class BatchParallel
{
    /// <summary>
    /// Below this many cell updates (batch × units × steps) one thread is faster than two: waking a
    /// second thread costs more than it saves (shape S, 20,480 updates: one slice trains in 2.1 ms,
    /// two in 2.5 ms; M, 409,600 updates: two slices 36 ms, one 42 ms). Settable for tests.
    /// </summary>
    internal static long MinimumWork { get; set; } = 65536;

    /// <summary>
    /// The number of slices to use: one per thread TorchSharp may use (at most one per row), when the
    /// direct BLAS is available and there is enough work; else one.
    /// </summary>
    public static int Slices(int batch, long work) =>
        Blas.Available && work >= MinimumWork ? Math.Min(Math.Min(batch, MaxSlices), Math.Max(1, TorchSharp.torch.get_num_threads())) : 1;

    /// <summary>Whether each slice's products run single-threaded (for experiments).</summary>
    internal static bool SingleThreadedBlas { get; set; } = true;

    /// <summary>An upper bound on the slices (for experiments and tests).</summary>
    internal static int MaxSlices { get; set; } = int.MaxValue;

    [ThreadStatic] private static bool t_inline;

    /// <summary>Whether this thread runs inside <see cref="Inline{T}"/> (other threads keep the cores busy).</summary>
    internal static bool InlineActive => t_inline;

    /// <summary>
    /// Runs <paramref name="action"/> with every <see cref="For"/> it reaches on this thread running
    /// its slices one after the other on this thread instead of in parallel: the same slices, so the
    /// same products on the same rows and the same results, bit for bit. For callers that keep the
    /// other cores busy themselves (<see cref="Bidirectional"/>'s directions).
    /// </summary>
    internal static T Inline<T>(Func<T> action)
    {
        bool previous = t_inline;
        t_inline = true;
        try
        {
            return action();
        }
        finally
        {
            t_inline = previous;
        }
    }

    /// <summary>
    /// Calls <paramref name="body"/>(slice, first row, row count) for <paramref name="slices"/>
    /// consecutive slices covering [0, <paramref name="batch"/>), in parallel; each call runs with
    /// single-threaded BLAS products.
    /// </summary>
    public static void For(int batch, int slices, Action<int, int, int> body)
    {
        if (slices == 1)
        {
            Run(body, 0, 0, batch);
            return;
        }
        if (t_inline)
        {
            for (int slice = 0; slice < slices; slice++)
            {
                int start = (int)((long)batch * slice / slices);
                int end = (int)((long)batch * (slice + 1) / slices);
                Run(body, slice, start, end - start);
            }
            return;
        }
        Parallel.For(0, slices, new ParallelOptions { MaxDegreeOfParallelism = slices }, slice =>
        {
            int start = (int)((long)batch * slice / slices);
            int end = (int)((long)batch * (slice + 1) / slices);
            Run(body, slice, start, end - start);
        });
    }

    private static void Run(Action<int, int, int> body, int slice, int start, int count)
    {
        // With several slices each product is small and runs on its own core; with one slice the
        // products are still per-step sized, where the BLAS's own threading costs more than it gains.
        int previous = SingleThreadedBlas ? Blas.SetLocalThreads(1) : 0;
        try
        {
            body(slice, start, count);
        }
        finally
        {
            if (SingleThreadedBlas)
                Blas.SetLocalThreads(previous);
        }
    }
}
