using SeqSharp.Data;
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
internal sealed class ArrayAdapter(Dataset data, int batchSize, bool shuffle) : DataAdapter
{
    public override int? BatchCount => data.Batches(batchSize);

    public override bool Indexable => true;

    public override bool Checked => true;

    public override Pass Open() => new ArrayPass(data, batchSize, shuffle ? torch.randperm(data.Count).DetachFromDisposeScope() : null);

    private sealed class ArrayPass(Dataset data, int batchSize, Tensor? order) : Pass
    {
        public override Batch? Get(int position)
        {
            long start = (long)position * batchSize;
            if (start >= data.Count)
                return null;
            var (x, y, w) = data.Batch(order, start, Math.Min(batchSize, data.Count - start));
            return new Batch(x, y, w);
        }

        public override void Dispose() => order?.Dispose();
    }
}

/// <summary>A re-iterable sequence of batches (a C# iterator method, a list, ...): each pass enumerates it anew.</summary>
internal sealed class EnumerableAdapter(IEnumerable<Batch> source) : DataAdapter
{
    public override int? BatchCount => null;

    public override bool Indexable => false;

    public override Pass Open() => new EnumeratorPass(source.GetEnumerator());

    private sealed class EnumeratorPass(IEnumerator<Batch> enumerator) : Pass
    {
        private bool _ended;

        public override Batch? Get(int position)
        {
            if (_ended || !enumerator.MoveNext())
            {
                _ended = true;
                return null;
            }
            return enumerator.Current;
        }

        public override void Dispose() => enumerator.Dispose();
    }
}

/// <summary>A <see cref="BatchDataset"/>: indices 0..count-1 per pass (shuffled when asked), or 0, 1, 2, ... without end.</summary>
internal sealed class DatasetAdapter(BatchDataset dataset, bool shuffle) : DataAdapter
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
        }
        return new DatasetPass(dataset, order);
    }

    public override void OnEpochEnd() => dataset.OnEpochEnd();

    private sealed class DatasetPass(BatchDataset dataset, int[]? order) : Pass
    {
        public override Batch? Get(int position)
        {
            if (dataset.BatchCount is int count && position >= count)
                return null;
            return dataset.GetBatch(order is null ? position : order[position]);
        }
    }
}
