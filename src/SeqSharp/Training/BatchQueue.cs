namespace SeqSharp.Training;

/// <summary>
/// Reads one pass of a <see cref="DataAdapter"/> in order, preparing the next batches on background
/// threads while the current one trains (Keras's <c>workers</c> and <c>max_queue_size</c>). With 0
/// workers every batch is made on the caller's thread when asked for. Indexable data is spread over
/// up to <c>workers</c> threads; a generator runs on one thread, in order. Results come back in
/// pass order either way, so training sees the same batches as with 0 workers.
/// </summary>
internal sealed class BatchQueue : IDisposable
{
    private readonly DataAdapter.Pass _pass;
    private readonly int _workers;
    private readonly int _capacity;
    private readonly Queue<Task<FetchedBatch?>> _pending = new();
    private int _scheduled;
    private int _taken;
    private volatile bool _ended;

    public BatchQueue(DataAdapter.Pass pass, bool indexable, int workers, int capacity)
    {
        _pass = pass;
        // A batch worker that asks for batches (a source that predicts) makes them itself: waiting
        // for the workers from a worker could wait for itself.
        _workers = BatchWorkers.OnWorker ? 0 : indexable ? workers : Math.Min(workers, 1);
        _capacity = Math.Max(1, capacity);
    }

    /// <summary>Batches taken so far in this pass.</summary>
    public int Taken => _taken;

    /// <summary>
    /// The next batch of the pass, or null once the pass has ended. Batches before position
    /// <paramref name="limit"/> may be prepared ahead; none at or after it.
    /// </summary>
    /// <exception cref="Exception">Whatever the source threw making this batch, rethrown as thrown.</exception>
    public FetchedBatch? Next(int limit)
    {
        if (_workers == 0)
        {
            if (_ended)
                return null;
            int position = _taken;
            var made = FetchedBatch.Make(() => _pass.Get(position));
            if (made is null)
                _ended = true;
            else
                _taken++;
            return made;
        }
        TopUp(limit);
        if (_pending.Count == 0)
            return null;
        FetchedBatch? result;
        try
        {
            result = _pending.Dequeue().GetAwaiter().GetResult();
        }
        catch
        {
            _ended = true;
            throw;
        }
        if (result is null)
        {
            _ended = true;
            return null;
        }
        _taken++;
        // Start the following batches now, so they are made while this one trains.
        TopUp(limit);
        return result;
    }

    private void TopUp(int limit)
    {
        while (!_ended && _scheduled < limit && _pending.Count < _capacity)
        {
            int position = _scheduled++;
            var done = new TaskCompletionSource<FetchedBatch?>(TaskCreationOptions.RunContinuationsAsynchronously);
            BatchWorkers.Post(position % _workers, () =>
            {
                try
                {
                    // After the end (or a failure) of a generator, later positions are not asked for.
                    done.SetResult(_ended ? null : FetchedBatch.Make(() => _pass.Get(position)));
                }
                catch (Exception e)
                {
                    if (_workers == 1)
                        _ended = true;
                    done.SetException(e);
                }
            });
            _pending.Enqueue(done.Task);
        }
    }

    /// <summary>Waits for batches still being made, disposes them, and ends the pass.</summary>
    public void Dispose()
    {
        _ended = true;
        while (_pending.Count > 0)
        {
            var task = _pending.Dequeue();
            try
            {
                task.GetAwaiter().GetResult()?.Dispose();
            }
            catch
            {
                // The source failed on a batch nobody asks for any more: nothing to report.
            }
        }
        _pass.Dispose();
    }
}
