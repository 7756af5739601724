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
