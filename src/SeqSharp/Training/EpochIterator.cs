namespace SeqSharp.Training;

/// <summary>
/// Counts the steps of each epoch over a <see cref="DataAdapter"/>, as Keras's <c>EpochIterator</c>:
/// <list type="bullet">
/// <item>Without <c>stepsPerEpoch</c>, each epoch is one whole pass. A source of unknown size runs
/// until it is exhausted, and its batch count is learnt for later epochs.</item>
/// <item>With <c>stepsPerEpoch</c>, one pass carries on across epochs, so an epoch is a window of
/// <c>stepsPerEpoch</c> batches on a stream. When a pass runs out first, the epoch ends early with a
/// warning ("ran out of data") and the next epoch starts a new pass.</item>
/// </list>
/// </summary>
internal sealed class EpochIterator : IDisposable
{
    private readonly DataAdapter _adapter;
    private readonly int? _stepsPerEpoch;
    private readonly int _workers;
    private readonly int _queueSize;
    private int? _batchCount;
    private BatchQueue? _queue;

    public EpochIterator(DataAdapter adapter, int? stepsPerEpoch, int workers, int queueSize)
    {
        _adapter = adapter;
        _stepsPerEpoch = stepsPerEpoch;
        _workers = adapter.Checked ? 0 : workers;
        _queueSize = queueSize;
        _batchCount = adapter.BatchCount;
    }

    /// <summary>The adapter read.</summary>
    public DataAdapter Adapter => _adapter;

    /// <summary>Steps per epoch when known: <c>stepsPerEpoch</c>, else the batch count (known or learnt), else null.</summary>
    public int? Steps => _stepsPerEpoch ?? _batchCount;

    /// <summary>Called when a source runs out before <c>stepsPerEpoch</c> batches.</summary>
    public Action? RanOut { get; init; }

    /// <summary>Starts over: the next epoch opens a new pass (Keras <c>reset</c>, used before each validation run).</summary>
    public void Reset()
    {
        _queue?.Dispose();
        _queue = null;
        _batchCount = _adapter.BatchCount;
    }

    /// <summary>
    /// The batches of one epoch, in order. Dispose each after its step. Breaking out early (a stop
    /// or an exception) is safe: the iterator's <see cref="Dispose"/> releases prepared batches.
    /// </summary>
    public IEnumerable<FetchedBatch> Epoch()
    {
        int steps = _stepsPerEpoch ?? _batchCount ?? int.MaxValue;
        if (_queue is null || _stepsPerEpoch is null)
        {
            _queue?.Dispose();
            _queue = new BatchQueue(_adapter.Open(), _adapter.Indexable, _workers, _queueSize);
        }
        bool completed = false;
        try
        {
            for (int step = 0; step < steps; step++)
            {
                if (_batchCount is int known && _queue.Taken >= known)
                {
                    if (_stepsPerEpoch is not null)
                        RanOut?.Invoke();
                    break;
                }
                // Batches up to the end of this epoch may be prepared ahead, never past it.
                long limit = (long)_queue.Taken + (steps - step);
                if (_batchCount is int count)
                    limit = Math.Min(limit, count);
                var batch = _queue.Next((int)Math.Min(limit, int.MaxValue));
                if (batch is null)
                {
                    // Running out is how an unknown batch count is learnt; with stepsPerEpoch it is an interruption.
                    _batchCount ??= _queue.Taken;
                    if (_stepsPerEpoch is not null)
                        RanOut?.Invoke();
                    _queue.Dispose();
                    _queue = null;
                    break;
                }
                yield return batch;
            }
            completed = true;
        }
        finally
        {
            if (!completed)
            {
                // Stopped early or failed: batches prepared ahead are not wanted any more.
                _queue?.Dispose();
                _queue = null;
            }
        }
        if (_batchCount is int total && _queue is not null && _queue.Taken >= total)
        {
            _queue.Dispose();
            _queue = null;
        }
        _adapter.OnEpochEnd();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _queue?.Dispose();
        _queue = null;
    }
}
