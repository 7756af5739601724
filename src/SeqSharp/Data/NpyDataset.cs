using static TorchSharp.torch;

namespace SeqSharp.Data;

/// <summary>
/// Batches read from numpy <c>.npy</c> files on disk: inputs from one file and, optionally, targets
/// from another with the same number of rows. Each batch reads only its own rows, with one
/// positional read per file, so files larger than memory train with memory bounded by a few batches.
/// Pass it to <c>Fit</c>, <c>Evaluate</c> or <c>Predict</c> like any <see cref="BatchDataset"/>.
/// </summary>
/// <remarks>
/// <para>Batch <c>i</c> holds rows <c>[i · BatchSize, (i + 1) · BatchSize)</c> of both files (the last
/// batch may be smaller), in the files' element types; <c>Fit</c> converts floating inputs and the
/// targets to the model's type, as it does for any batch. With <c>Fit(data, shuffle: true)</c> (the
/// default) the batches of each epoch come in a new random order; the rows inside a batch stay
/// contiguous, so every read is sequential on disk. Shuffle the rows of the files once beforehand
/// when the order on disk is not random.</para>
/// <para>Rows are read with <see cref="NpyArray.Read"/>, never mapped, so the process's resident memory
/// grows by the batches in flight (the current one and those the <c>workers</c> prepare ahead), not by
/// the file. Measured: training on a 4.3 GB file grew resident memory by well under 500 MB
/// (<c>NpyDatasetTests</c>).</para>
/// <para>Reads may run on <c>Fit</c>'s background workers, several at once: positional reads share no
/// file position, so that is safe.</para>
/// </remarks>
/// <example>
/// <code>
/// // x.npy: (10_000_000, 48, 14) float32, 27 GB; y.npy: (10_000_000,) float32
/// using var data = new NpyDataset("x.npy", "y.npy", batchSize: 256);
/// model.Fit(data, epochs: 3);                         // batch order shuffled every epoch
/// using var test = new NpyDataset("x_test.npy", "y_test.npy", batchSize: 1024);
/// var scores = model.Evaluate(test);
/// </code>
/// </example>
public sealed class NpyDataset : BatchDataset, IDisposable
{
    private readonly NpyArray _x;
    private readonly NpyArray? _y;
    private readonly bool _ownsFiles;

    /// <summary>Opens <paramref name="xPath"/> (and <paramref name="yPath"/>) and serves their rows in batches; disposing the dataset closes the files.</summary>
    /// <param name="xPath">The inputs: a <c>.npy</c> file of shape <c>(samples, ...)</c>, e.g. <c>(samples, timesteps, features)</c>.</param>
    /// <param name="yPath">The targets, <c>(samples, ...)</c> with the same number of rows; null for inputs only (<c>Predict</c>).</param>
    /// <param name="batchSize">Rows per batch, positive; Keras's default 32.</param>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is not a <c>.npy</c> file this reader takes (see <see cref="NpyArray.Open"/>).</exception>
    /// <exception cref="ArgumentException">The files have different numbers of rows, or an input file is a scalar or has no rows.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    public NpyDataset(string xPath, string? yPath = null, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(xPath);
        RequireBatchSize(batchSize);
        var x = NpyArray.Open(xPath);
        NpyArray? y = null;
        try
        {
            y = yPath is null ? null : NpyArray.Open(yPath);
            Check(x, y, batchSize);
        }
        catch
        {
            x.Dispose();
            y?.Dispose();
            throw;
        }
        (_x, _y, _ownsFiles, BatchSize) = (x, y, true, batchSize);
    }

    /// <summary>Serves the rows of arrays already open; the caller keeps them and disposes them.</summary>
    /// <param name="x">The inputs, <c>(samples, ...)</c>.</param>
    /// <param name="y">The targets with the same number of rows, or null.</param>
    /// <param name="batchSize">Rows per batch, positive.</param>
    /// <exception cref="ArgumentException">Different numbers of rows, or inputs that are a scalar or have no rows.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    public NpyDataset(NpyArray x, NpyArray? y = null, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(x);
        RequireBatchSize(batchSize);
        Check(x, y, batchSize);
        (_x, _y, _ownsFiles, BatchSize) = (x, y, false, batchSize);
    }

    /// <summary>The inputs' file.</summary>
    public NpyArray X => _x;

    /// <summary>The targets' file, or null.</summary>
    public NpyArray? Y => _y;

    /// <summary>Rows per batch (the last batch may be smaller).</summary>
    public int BatchSize { get; }

    /// <summary>The number of rows (samples).</summary>
    public long Count => _x.Count;

    /// <summary>Rows / <see cref="BatchSize"/>, rounded up.</summary>
    public override int? BatchCount => (int)((_x.Count + BatchSize - 1) / BatchSize);

    /// <summary>Rows <c>[index · BatchSize, …)</c> of the inputs (and targets), read from disk now into new tensors.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not in [0, <see cref="BatchCount"/>).</exception>
    public override Batch GetBatch(int index) => Read(index, 0, BatchLength(index)!.Value);

    /// <summary>The rows in batch <paramref name="index"/>: <see cref="BatchSize"/>, fewer for the last batch.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not in [0, <see cref="BatchCount"/>).</exception>
    public override long? BatchLength(int index)
    {
        int count = BatchCount!.Value;
        if (index < 0 || index >= count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Expected a batch index in [0, {count}). Received: {index}.");
        return Math.Min(BatchSize, _x.Count - (long)index * BatchSize);
    }

    /// <summary>
    /// Rows <c>[start, start + count)</c> of batch <paramref name="index"/>, read from disk now: one
    /// positional read per file of only those rows (a data-parallel rank's share of the batch).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not in [0, <see cref="BatchCount"/>), or the rows are not inside the batch.</exception>
    public override Batch GetBatchRows(int index, long start, long count)
    {
        long length = BatchLength(index)!.Value;
        if (start < 0 || count < 0 || start + count > length)
            throw new ArgumentOutOfRangeException(nameof(start), $"Expected rows within the {length} of batch {index}. Received: start={start}, count={count}.");
        return Read(index, start, count);
    }

    private Batch Read(int index, long offset, long rows)
    {
        long start = (long)index * BatchSize + offset;
        var x = _x.Read(start, rows);
        if (_y is null)
            return x;
        try
        {
            return (x, _y.Read(start, rows));
        }
        catch
        {
            x.Dispose();
            throw;
        }
    }

    /// <summary>Closes the files when the dataset opened them (the path constructor); arrays passed in are left open.</summary>
    public void Dispose()
    {
        if (!_ownsFiles)
            return;
        _x.Dispose();
        _y?.Dispose();
    }

    private static void RequireBatchSize(int batchSize)
    {
        if (batchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Expected a positive batchSize. Received: batchSize={batchSize}.");
    }

    private static void Check(NpyArray x, NpyArray? y, int batchSize)
    {
        if (x.Shape.Length > 0 && (x.Count + batchSize - 1) / batchSize > int.MaxValue)
            throw new ArgumentException($"'{x.Path}' has {x.Count} rows: more than {int.MaxValue} batches of {batchSize}; use a larger batchSize.", nameof(batchSize));
        if (x.Shape.Length == 0 || x.Count == 0)
            throw new ArgumentException($"Expected inputs with the samples on the first axis. Received: '{x.Path}' of shape ({string.Join(", ", x.Shape)}).", nameof(x));
        if (y is not null && (y.Shape.Length == 0 || y.Count != x.Count))
            throw new ArgumentException(
                $"Expected inputs and targets with the same number of rows. Received: '{x.Path}' has {x.Count} (shape ({string.Join(", ", x.Shape)})), " +
                $"'{y.Path}' has {(y.Shape.Length == 0 ? "none (a scalar)" : y.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))} (shape ({string.Join(", ", y.Shape)})).",
                nameof(y));
    }
}
