using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Data;

/// <summary>
/// Sliding windows over a time series, made by <c>Utils.TimeseriesDataset</c> (Keras
/// <c>keras.utils.timeseries_dataset_from_array</c>). Enumerating it yields batches
/// <c>(X, Y)</c>: <c>X</c> of shape <c>(batch, sequenceLength, features...)</c> and <c>Y</c> of
/// shape <c>(batch, targetFeatures...)</c>, or null when there are no targets;
/// <see cref="ToTensors"/> gives all windows at once, ready for <c>Sequential.Fit</c>.
/// </summary>
/// <remarks>
/// It is a <see cref="BatchDataset"/>: <c>model.Fit(windows, epochs: 5)</c> trains on it directly,
/// cutting the windows of each batch only when that batch is needed (and shuffling the batch order
/// each epoch unless <c>shuffle: false</c>), so memory holds the series and a few batches, never
/// all windows.
/// Window <c>i</c> takes the samples <c>s, s + samplingRate, ..., s + (sequenceLength - 1) · samplingRate</c>
/// of the data, where <c>s</c> is <see cref="WindowStarts"/>[i]; its target is <c>targets[s]</c>.
/// Windows are gathered batch by batch when enumerated, so the dataset holds only the series.
/// </remarks>
/// <example>
/// <code>
/// // Predict step t + 12 from steps t .. t + 11 of a (timesteps, features) series:
/// using var windows = Utils.TimeseriesDataset(series[..^12], series[12.., 0], sequenceLength: 12, batchSize: 32);
/// foreach (var (x, y) in windows) { /* x: (32, 12, features), y: (32) */ }
/// var (xAll, yAll) = windows.ToTensors();
/// model.Fit(xAll, yAll!, epochs: 50);
/// </code>
/// </example>
public sealed class TimeseriesDataset : BatchDataset, IDisposable
{
    private readonly Tensor _data;
    private readonly Tensor? _targets;
    private readonly long[] _starts;
    private readonly int _sequenceLength;
    private readonly int _samplingRate;

    internal TimeseriesDataset(Tensor data, Tensor? targets, long[] starts, int sequenceLength, int samplingRate, int? batchSize)
    {
        _data = data;
        _targets = targets;
        _starts = starts;
        _sequenceLength = sequenceLength;
        _samplingRate = samplingRate;
        BatchSize = batchSize;
    }

    /// <summary>The number of windows.</summary>
    public int Count => _starts.Length;

    /// <summary>
    /// The samples per batch when enumerating (the last batch may be smaller); null when the
    /// dataset yields single windows without a batch axis, as Keras does for <c>batch_size=None</c>.
    /// </summary>
    public int? BatchSize { get; }

    /// <summary>
    /// Where each window starts, as an index into the whole data passed in (so
    /// <c>startIndex</c> is included), in the order the windows are yielded; the target of
    /// window <c>i</c> is <c>targets[WindowStarts[i]]</c>.
    /// </summary>
    public IReadOnlyList<long> WindowStarts => _starts;

    /// <summary>True when the dataset was made with targets, so <c>Y</c> is never null.</summary>
    public bool HasTargets => _targets is not null;

    /// <summary>
    /// All windows as two tensors, in the order the windows are yielded: <c>X</c> of shape
    /// <c>(windows, sequenceLength, features...)</c> and <c>Y</c> of shape
    /// <c>(windows, targetFeatures...)</c> (null without targets). New tensors, owned by the caller.
    /// </summary>
    public (Tensor X, Tensor? Y) ToTensors() => Gather(0, _starts.Length);

    /// <summary>
    /// The number of batches: windows / <see cref="BatchSize"/> rounded up, or the number of windows
    /// when <see cref="BatchSize"/> is null (each "batch" is then one window without a batch axis).
    /// </summary>
    public override int? BatchCount => BatchSize is int size ? (_starts.Length + size - 1) / size : _starts.Length;

    /// <summary>
    /// Batch <paramref name="index"/>: windows <c>index · BatchSize</c> onward (the last batch may be
    /// smaller), gathered now into new tensors; one window without a batch axis when
    /// <see cref="BatchSize"/> is null.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not in [0, <see cref="BatchCount"/>).</exception>
    public override Batch GetBatch(int index)
    {
        RequireIndex(index);
        if (BatchSize is not int batchSize)
        {
            var (x1, y1) = Gather(index, 1);
            return (x1.squeeze(0), y1?.squeeze(0));
        }
        var (x, y) = Gather(index * batchSize, Math.Min(batchSize, _starts.Length - index * batchSize));
        return (x, y);
    }

    /// <summary>The windows in batch <paramref name="index"/>: <see cref="BatchSize"/>, fewer for the last batch; null when <see cref="BatchSize"/> is null (single windows without a batch axis).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not in [0, <see cref="BatchCount"/>).</exception>
    public override long? BatchLength(int index)
    {
        RequireIndex(index);
        return BatchSize is int batchSize ? Math.Min(batchSize, _starts.Length - (long)index * batchSize) : null;
    }

    /// <summary>
    /// Windows <c>[start, start + count)</c> of batch <paramref name="index"/>, gathered now: only those
    /// windows' steps are read from the series (a data-parallel rank's share of the batch).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not in [0, <see cref="BatchCount"/>), or the windows are not inside the batch.</exception>
    /// <exception cref="InvalidOperationException"><see cref="BatchSize"/> is null: single windows have no rows to split.</exception>
    public override Batch GetBatchRows(int index, long start, long count)
    {
        if (BatchLength(index) is not long length)
            throw new InvalidOperationException("This dataset yields single windows without a batch axis (batchSize: null), which cannot be split into rows; make it with a batchSize.");
        if (start < 0 || count < 0 || start + count > length)
            throw new ArgumentOutOfRangeException(nameof(start), $"Expected windows within the {length} of batch {index}. Received: start={start}, count={count}.");
        var (x, y) = Gather((int)(index * (long)BatchSize!.Value + start), (int)count);
        return (x, y);
    }

    /// <summary>Yields the batches in order: <see cref="BatchSize"/> windows each, the last batch possibly smaller.</summary>
    public override IEnumerator<(Tensor X, Tensor? Y)> GetEnumerator()
    {
        if (BatchSize is not int batchSize)
        {
            for (int i = 0; i < _starts.Length; i++)
            {
                var (x, y) = Gather(i, 1);
                yield return (x.squeeze(0), y?.squeeze(0));
            }
            yield break;
        }
        for (int start = 0; start < _starts.Length; start += batchSize)
            yield return Gather(start, Math.Min(batchSize, _starts.Length - start));
    }

    /// <summary>Releases the series the dataset holds; tensors already yielded stay valid.</summary>
    public void Dispose()
    {
        _data.Dispose();
        _targets?.Dispose();
    }

    private void RequireIndex(int index)
    {
        int count = BatchCount!.Value;
        if (index < 0 || index >= count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Expected a batch index in [0, {count}). Received: {index}.");
    }

    /// <summary>Windows [first, first + count) of the yield order, gathered into new tensors.</summary>
    private (Tensor X, Tensor? Y) Gather(int first, int count)
    {
        var starts = new long[count];
        Array.Copy(_starts, first, starts, 0, count);
        using var startTensor = torch.tensor(starts, ScalarType.Int64);
        using var offsets = torch.arange(0L, (long)_sequenceLength * _samplingRate, _samplingRate, ScalarType.Int64);
        using var indices = startTensor.unsqueeze(1) + offsets.unsqueeze(0);
        using var flat = indices.reshape(-1);
        using var rows = _data.index_select(0, flat);
        var shape = new long[] { count, _sequenceLength }.Concat(_data.shape.Skip(1)).ToArray();
        var x = rows.reshape(shape);
        var y = _targets?.index_select(0, startTensor);
        return (x, y);
    }
}
