using SeqSharp.Data;
using SeqSharp.Distributed;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Training;

/// <summary>
/// Turns one kind of data into batches (Keras's data adapters): the batch count when known, a fresh
/// pass over the data, and the end-of-epoch hook. Shuffling and batching live here; counting steps
/// lives in <see cref="EpochIterator"/>.
/// </summary>
internal abstract class DataAdapter
{
    /// <summary>The batches in one pass, or null when unknown until a pass runs out (generators) or endless.</summary>
    public abstract int? BatchCount { get; }

    /// <summary>Whether batch k of a pass can be made without making batches 0..k-1 first (indexable data).</summary>
    public abstract bool Indexable { get; }

    /// <summary>Whether the batches are already checked and converted (arrays checked up front).</summary>
    public virtual bool Checked => false;

    /// <summary>
    /// Starts a pass: a function from the position k in the pass (0, 1, 2, ... asked in order, or
    /// concurrently when <see cref="Indexable"/>) to its batch, or null after the last one.
    /// </summary>
    public abstract Pass Open();

    /// <summary>Called once per epoch, after its last batch (Keras <c>on_epoch_end</c>).</summary>
    public virtual void OnEpochEnd() { }

    /// <summary>
    /// The same data for one rank of a data-parallel run: every pass visits the same global batches
    /// in the same order on every rank (rank 0's shuffle), and each batch holds only this rank's
    /// share of the global batch (<see cref="DataParallel.Share"/>), possibly no rows.
    /// </summary>
    public abstract DataAdapter ForRanks(DataParallel ranks);

    /// <summary>This rank's share of a whole batch, as views (a batch whose parts disagree on the sample count stays whole, for the checks to refuse).</summary>
    private protected static Batch MyRows(Batch batch, DataParallel ranks)
    {
        if (batch.X is null || batch.X.dim() == 0)
            return batch;
        var (start, count) = ranks.Share(batch.X.shape[0]);
        return BatchDataset.Rows(batch, start, count);
    }

    /// <summary>One pass over the data.</summary>
    internal abstract class Pass : IDisposable
    {
        /// <summary>Batch <paramref name="position"/> of the pass, or null when the pass has ended before it.</summary>
        public abstract Batch? Get(int position);

        /// <inheritdoc />
        public virtual void Dispose() { }
    }
}

/// <summary>In-memory tensors, already checked: batches of <c>batchSize</c> samples, reshuffled per pass when asked.</summary>
internal sealed class ArrayAdapter(Dataset data, int batchSize, bool shuffle, DataParallel? ranks = null) : DataAdapter
{
    public override int? BatchCount => data.Batches(batchSize);

    public override bool Indexable => true;

    public override bool Checked => true;

    public override Pass Open()
    {
        if (!shuffle)
            return new ArrayPass(data, batchSize, null, ranks);
        using var scope = torch.NewDisposeScope();
        var order = torch.randperm(data.Count);
        if (ranks is not null)
            order = ranks.BroadcastIndices(order);
        return new ArrayPass(data, batchSize, order.DetachFromDisposeScope(), ranks);
    }

    public override DataAdapter ForRanks(DataParallel ranks) => new ArrayAdapter(data, batchSize, shuffle, ranks);

    private sealed class ArrayPass(Dataset data, int batchSize, Tensor? order, DataParallel? ranks) : Pass
    {
        public override Batch? Get(int position)
        {
            long start = (long)position * batchSize;
            if (start >= data.Count)
                return null;
            long count = Math.Min(batchSize, data.Count - start);
            if (ranks is not null)
            {
                var share = ranks.Share(count);
                (start, count) = (start + share.Start, share.Count);
            }
            var (x, y, w) = data.Batch(order, start, count);
            return new Batch(x, y, w);
        }

        public override void Dispose() => order?.Dispose();
    }
}

/// <summary>A re-iterable sequence of batches (a C# iterator method, a list, ...): each pass enumerates it anew.</summary>
/// <remarks>
/// In a data-parallel run every rank enumerates the whole sequence and keeps its share of each batch
/// (tf.distribute's "auto-shard by data"): a stream cannot be asked for some rows only, so it must give
/// every rank the same batches.
/// </remarks>
internal sealed class EnumerableAdapter(IEnumerable<Batch> source, DataParallel? ranks = null) : DataAdapter
{
    public override int? BatchCount => null;

    public override bool Indexable => false;

    public override Pass Open() => new EnumeratorPass(source.GetEnumerator(), ranks);

    public override DataAdapter ForRanks(DataParallel ranks) => new EnumerableAdapter(source, ranks);

    private sealed class EnumeratorPass(IEnumerator<Batch> enumerator, DataParallel? ranks) : Pass
    {
        private bool _ended;

        public override Batch? Get(int position)
        {
            if (_ended || !enumerator.MoveNext())
            {
                _ended = true;
                return null;
            }
            return ranks is null ? enumerator.Current : MyRows(enumerator.Current, ranks);
        }

        public override void Dispose() => enumerator.Dispose();
    }
}

/// <summary>A <see cref="BatchDataset"/>: indices 0..count-1 per pass (shuffled when asked), or 0, 1, 2, ... without end.</summary>
/// <remarks>
/// In a data-parallel run each rank asks only for its rows of every batch (<see cref="BatchDataset.GetBatchRows"/>)
/// when the dataset knows the batch's length without making it (<see cref="BatchDataset.BatchLength"/>);
/// otherwise it makes the whole batch and keeps its rows.
/// </remarks>
internal sealed class DatasetAdapter(BatchDataset dataset, bool shuffle, DataParallel? ranks = null) : DataAdapter
{
    public override int? BatchCount => dataset.BatchCount;

    public override bool Indexable => true;

    public override Pass Open()
    {
        int[]? order = null;
        if (shuffle && dataset.BatchCount is int count)
        {
            using var scope = torch.NewDisposeScope();
            order = torch.randperm(count, ScalarType.Int32).data<int>().ToArray();
            ranks?.BroadcastOrder(order);
        }
        return new DatasetPass(dataset, order, ranks);
    }

    public override void OnEpochEnd() => dataset.OnEpochEnd();

    public override DataAdapter ForRanks(DataParallel ranks) => new DatasetAdapter(dataset, shuffle, ranks);

    private sealed class DatasetPass(BatchDataset dataset, int[]? order, DataParallel? ranks) : Pass
    {
        public override Batch? Get(int position)
        {
            if (dataset.BatchCount is int count && position >= count)
                return null;
            int index = order is null ? position : order[position];
            if (ranks is null)
                return dataset.GetBatch(index);
            if (dataset.BatchLength(index) is long length)
            {
                var (start, rows) = ranks.Share(length);
                return dataset.GetBatchRows(index, start, rows);
            }
            return MyRows(dataset.GetBatch(index), ranks);
        }
    }
}
