using System.Collections;
using static TorchSharp.torch;

namespace SeqSharp.Data;

/// <summary>
/// A source of batches addressed by index (Keras <c>keras.utils.PyDataset</c>): subclass it, give
/// <see cref="BatchCount"/> and <see cref="GetBatch"/>, and pass it to <c>Fit</c>, <c>Evaluate</c>
/// or <c>Predict</c>. Batches are made when asked for, so the data never has to fit in memory at
/// once.
/// </summary>
/// <remarks>
/// <para><c>Fit(dataset, shuffle: true)</c> (the default) visits the batches of each epoch in a new
/// random order of indices, as Keras does; the samples inside a batch are whatever
/// <see cref="GetBatch"/> returns. <see cref="OnEpochEnd"/> is called after every epoch.</para>
/// <para>A null <see cref="BatchCount"/> means an endless dataset: <c>Fit</c> then needs
/// <c>stepsPerEpoch</c> and asks for indices 0, 1, 2, ... across epochs.</para>
/// <para>Tensors that <see cref="GetBatch"/> creates belong to the training loop, which disposes
/// them after the step; tensors it returns that existed before the call (say, a slice source held
/// in a field) are left alone. With <c>workers</c> above 0 in <c>Fit</c>, <see cref="GetBatch"/> runs
/// on background threads, several indices at once when <c>workers</c> is above 1, so it must not
/// depend on call order; results are consumed in index order and equal those of <c>workers: 0</c>.</para>
/// <para>Enumerating the dataset yields <see cref="BatchCount"/> batches in index order (without
/// sample weights).</para>
/// <para>In data-parallel training (<see cref="Distributed.DataParallel"/>) each batch is a global batch
/// split between the ranks. Override <see cref="BatchLength"/> and <see cref="GetBatchRows"/> so that each
/// rank reads only its own rows; otherwise every rank makes the whole batch and keeps its rows.</para>
/// </remarks>
/// <example>
/// <code>
/// sealed class Windows(Tensor series, int batchSize) : BatchDataset
/// {
///     public override int? BatchCount => (int)((series.shape[0] - 10) / batchSize);
///     public override Batch GetBatch(int index)
///     {
///         var starts = torch.arange(index * batchSize, (index + 1) * batchSize);
///         var x = series[starts.unsqueeze(1) + torch.arange(10)];     // (batch, 10, features)
///         var y = series[starts + 10, 0];                            // (batch)
///         return (x, y);
///     }
/// }
/// model.Fit(new Windows(series, 32), epochs: 5);
/// </code>
/// </example>
public abstract class BatchDataset : IEnumerable<(Tensor X, Tensor? Y)>
{
    /// <summary>The number of batches (Keras <c>__len__</c> / <c>num_batches</c>), or null for an endless dataset.</summary>
    public abstract int? BatchCount { get; }

    /// <summary>Batch <paramref name="index"/> (Keras <c>__getitem__</c>), from 0 to <see cref="BatchCount"/> - 1.</summary>
    public abstract Batch GetBatch(int index);

    /// <summary>
    /// The number of samples in batch <paramref name="index"/> when it is known without making the
    /// batch, or null (the default) when only <see cref="GetBatch"/> can tell.
    /// </summary>
    /// <remarks>
    /// Data-parallel training (<see cref="Distributed.DataParallel"/>) asks for it to split each global
    /// batch between the ranks: when it is known, each rank asks <see cref="GetBatchRows"/> for its own
    /// rows only; when it is null, every rank makes the whole batch and keeps its rows.
    /// </remarks>
    /// <param name="index">The batch, from 0 to <see cref="BatchCount"/> - 1.</param>
    public virtual long? BatchLength(int index) => null;

    /// <summary>
    /// Samples <c>[start, start + count)</c> of batch <paramref name="index"/>: what one rank of a
    /// data-parallel run trains on. Override it together with <see cref="BatchLength"/> to read only
    /// those samples; the default makes the whole batch with <see cref="GetBatch"/> and keeps them.
    /// </summary>
    /// <param name="index">The batch, from 0 to <see cref="BatchCount"/> - 1.</param>
    /// <param name="start">The first sample of the batch wanted, from 0.</param>
    /// <param name="count">How many samples, 0 or more; <c>start + count</c> is at most the batch's length.</param>
    /// <returns>The samples, batch axis first (<c>count</c> rows), as <see cref="GetBatch"/> would return them.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The rows are not inside the batch.</exception>
    public virtual Batch GetBatchRows(int index, long start, long count)
    {
        var batch = GetBatch(index);
        long rows = batch.X.dim() == 0 ? 0 : batch.X.shape[0];
        if (start < 0 || count < 0 || start + count > rows)
            throw new ArgumentOutOfRangeException(nameof(start), $"Expected samples within the {rows} of batch {index}. Received: start={start}, count={count}.");
        return Rows(batch, start, count);
    }

    /// <summary>Samples [start, start + count) of a batch, as views; a batch whose parts disagree on the sample count is returned whole, for the caller's checks to refuse.</summary>
    internal static Batch Rows(Batch batch, long start, long count)
    {
        long rows = batch.X.dim() == 0 ? -1 : batch.X.shape[0];
        var parts = new[] { batch.X, batch.Y, batch.SampleWeight }.Concat(batch.Inputs ?? []).Concat(batch.Targets ?? []).OfType<Tensor>();
        if (rows < 0 || parts.Any(t => t.dim() == 0 || t.shape[0] != rows))
            return batch;
        if (start == 0 && count == rows)
            return batch;
        Tensor Cut(Tensor t) => t.narrow(0, start, count);
        var weight = batch.SampleWeight is { } w ? Cut(w) : null;
        if (batch.Inputs is null && batch.Targets is null)
            return new Batch(Cut(batch.X), batch.Y is { } y ? Cut(y) : null, weight);
        // A batch of one tensor per input and per output: every part keeps the same rows.
        return new Batch(batch.Inputs?.Select(Cut).ToList() ?? [Cut(batch.X)],
            batch.Targets?.Select(Cut).ToList() ?? (batch.Y is { } target ? [Cut(target)] : null), weight);
    }

    /// <summary>Called after every epoch of <c>Fit</c> (Keras <c>on_epoch_end</c>), e.g. to reshuffle samples; does nothing by default.</summary>
    public virtual void OnEpochEnd() { }

    /// <summary>The batches in index order, as <c>(X, Y)</c>; endless when <see cref="BatchCount"/> is null.</summary>
    public virtual IEnumerator<(Tensor X, Tensor? Y)> GetEnumerator()
    {
        for (int i = 0; BatchCount is not int count || i < count; i++)
        {
            var batch = GetBatch(i);
            yield return (batch.X, batch.Y);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
