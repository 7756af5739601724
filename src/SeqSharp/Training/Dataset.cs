using static TorchSharp.torch;

namespace SeqSharp.Training;

/// <summary>Checked inputs, targets and optional sample weights of equal sample count, ready for batching.</summary>
internal sealed class Dataset(Tensor x, Tensor y, Tensor? sampleWeight)
{
    public Tensor X { get; } = x;
    public Tensor Y { get; } = y;
    public Tensor? SampleWeight { get; } = sampleWeight;
    public long Count => X.shape[0];

    /// <summary>Samples [start, start + count) as views.</summary>
    public Dataset Slice(long start, long count) =>
        new(X.narrow(0, start, count), Y.narrow(0, start, count), SampleWeight?.narrow(0, start, count));

    /// <summary>One batch: a contiguous range in order, or the samples at positions <paramref name="order"/>[start..].</summary>
    public (Tensor X, Tensor Y, Tensor? SampleWeight) Batch(Tensor? order, long start, long count)
    {
        if (order is null)
            return (X.narrow(0, start, count), Y.narrow(0, start, count), SampleWeight?.narrow(0, start, count));
        var index = order.narrow(0, start, count);
        return (X.index_select(0, index), Y.index_select(0, index), SampleWeight?.index_select(0, index));
    }

    /// <summary>The number of batches of <paramref name="batchSize"/>, the last one possibly partial (Keras keeps it).</summary>
    public int Batches(int batchSize) => (int)((Count + batchSize - 1) / batchSize);
}
