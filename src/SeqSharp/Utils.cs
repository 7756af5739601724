using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp;

/// <summary>Process-wide helpers, as in <c>keras.utils</c>.</summary>
public static class Utils
{
    /// <summary>
    /// Seeds every random generator SeqSharp uses (TorchSharp's, which draws initial weights,
    /// shuffles and dropout masks), like <c>keras.utils.set_random_seed</c>: two runs of the same
    /// script with the same seed give the same weights and the same training history.
    /// </summary>
    public static void SetRandomSeed(long seed)
    {
        torch.manual_seed(seed);
        torch.random.manual_seed(seed);
    }

    /// <summary>
    /// Resets the automatic layer names, so the next <c>Dense</c> is called <c>dense</c> again
    /// (like <c>keras.backend.clear_session</c>).
    /// </summary>
    public static void ClearSession() => Layers.LayerNames.Reset();

    /// <summary>
    /// <c>loss.backward()</c> for your own training loops, with SeqSharp's errors: when the backward
    /// pass of a recurrent layer fails (say its weights were changed between the forward pass and
    /// backward), this throws an exception naming the layer and the cause, where
    /// <c>loss.backward()</c> can only throw LibTorch's generic "returned an invalid gradient" error.
    /// </summary>
    /// <remarks>
    /// A recurrent layer's backward runs inside a native callback, where an exception would end the
    /// process; SeqSharp keeps it there and makes LibTorch refuse the gradients instead, so plain
    /// <c>backward()</c> fails cleanly too, but without the layer's message. <c>Fit</c> uses this.
    /// </remarks>
    /// <param name="loss">A scalar to differentiate.</param>
    /// <exception cref="InvalidOperationException">A layer's backward pass failed; the message names the layer and the cause.</exception>
    /// <example>
    /// <code>
    /// var value = loss.Call(y, model.Call(x));
    /// Utils.Backward(value);          // rather than value.backward()
    /// </code>
    /// </example>
    public static void Backward(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        Layers.Kernels.BackwardFailure.Backward(loss);
    }

    /// <summary>
    /// Pads sequences of different lengths to one length (Keras <c>keras.utils.pad_sequences</c>):
    /// a <c>(samples, maxlen)</c> tensor, shorter sequences filled with <paramref name="value"/>,
    /// longer ones cut.
    /// </summary>
    /// <typeparam name="T">The element type of the sequences, e.g. <c>int</c> token indices.</typeparam>
    /// <param name="sequences">The sequences, e.g. <c>List&lt;int[]&gt;</c> of word indices; empty ones become all padding.</param>
    /// <param name="maxlen">The length of the result, positive; null for the longest sequence's length.</param>
    /// <param name="dtype">The element type of the result; Keras's default int32.</param>
    /// <param name="padding"><c>"pre"</c> (default, padding before each sequence) or <c>"post"</c> (after).</param>
    /// <param name="truncating"><c>"pre"</c> (default, drop the start of long sequences) or <c>"post"</c> (drop the end).</param>
    /// <param name="value">The padding value.</param>
    /// <returns>A <c>(samples, maxlen)</c> tensor of <paramref name="dtype"/>.</returns>
    /// <exception cref="ArgumentException">A null sequence, or an unknown padding or truncating mode.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxlen"/> is not positive.</exception>
    /// <example>
    /// <code>
    /// Utils.PadSequences([[1], [2, 3], [4, 5, 6]]);            // [[0, 0, 1], [0, 2, 3], [4, 5, 6]]
    /// Utils.PadSequences([[1], [2, 3], [4, 5, 6]], maxlen: 2);  // [[0, 1], [2, 3], [5, 6]]
    /// </code>
    /// </example>
    public static Tensor PadSequences<T>(IEnumerable<IEnumerable<T>> sequences, int? maxlen = null, ScalarType dtype = ScalarType.Int32,
        string padding = "pre", string truncating = "pre", double value = 0.0) where T : INumber<T>
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (padding is not ("pre" or "post"))
            throw new ArgumentException($"Padding type \"{padding}\" not understood. Expected \"pre\" or \"post\".", nameof(padding));
        if (truncating is not ("pre" or "post"))
            throw new ArgumentException($"Truncating type \"{truncating}\" not understood. Expected \"pre\" or \"post\".", nameof(truncating));
        if (maxlen is <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxlen), maxlen, $"Expected a positive maxlen. Received: maxlen={maxlen}.");
        var rows = sequences.Select((s, i) => s?.Select(v => double.CreateChecked(v)).ToArray()
            ?? throw new ArgumentException($"Sequence {i} is null.", nameof(sequences))).ToList();
        int length = maxlen ?? rows.Select(r => r.Length).DefaultIfEmpty(0).Max();
        var values = new double[rows.Count * length];
        Array.Fill(values, value);
        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            int count = Math.Min(row.Length, length);
            int from = truncating == "pre" ? row.Length - count : 0;
            int to = padding == "pre" ? length - count : 0;
            Array.Copy(row, from, values, i * length + to, count);
        }
        // As NumPy's cast: float values become integers by truncation toward zero.
        using var asDouble = torch.tensor(values, new long[] { rows.Count, length }, ScalarType.Float64);
        return asDouble.to_type(dtype);
    }
    /// <summary>
    /// Sliding windows over a time series, as <c>keras.utils.timeseries_dataset_from_array</c>:
    /// window <c>i</c> starts at <c>startIndex + i · sequenceStride</c> and takes
    /// <paramref name="sequenceLength"/> samples, <paramref name="samplingRate"/> steps apart; its
    /// target is <c>targets[start]</c>, the target of the window that starts at that index.
    /// </summary>
    /// <param name="data">The series, time on axis 0: <c>(timesteps, features)</c>, or <c>(timesteps)</c> for windows of shape <c>(sequenceLength)</c>. Kept in its element type.</param>
    /// <param name="targets">Targets by time step, axis 0 aligned with <paramref name="data"/> (<c>targets[i]</c> belongs to the window starting at <c>i</c>); null for windows only.</param>
    /// <param name="sequenceLength">Samples per window, positive.</param>
    /// <param name="sequenceStride">Steps between the starts of consecutive windows (1: every step starts one), positive and below the length of the data.</param>
    /// <param name="samplingRate">Steps between consecutive samples of a window, positive and below the length of the data.</param>
    /// <param name="batchSize">Windows per batch when enumerating (default 128, the last batch may be smaller); null yields single windows without a batch axis.</param>
    /// <param name="shuffle">Whether to put the windows in a random order (once, when the dataset is made).</param>
    /// <param name="seed">The seed of the shuffle; null draws one from TorchSharp's generator, so <see cref="SetRandomSeed"/> makes it reproducible.</param>
    /// <param name="startIndex">The first step used (inclusive); null for 0.</param>
    /// <param name="endIndex">The step after the last one used (exclusive); null for the length of the data. As in Keras it must be lower than the length of the data.</param>
    /// <returns>The windows; enumerate it for batches or call <see cref="Data.TimeseriesDataset.ToTensors"/>. Windows that would run past <paramref name="endIndex"/> are left out.</returns>
    /// <remarks>
    /// The number of windows is <c>ceil(n / sequenceStride)</c> for
    /// <c>n = min(endIndex - startIndex - (sequenceLength - 1) · samplingRate, targets.length)</c>, as in Keras.
    /// One difference: Keras shuffles with NumPy's and tf.data's generators and reshuffles
    /// within a buffer on every pass; here the order is one seeded permutation of all windows,
    /// fixed when the dataset is made (<c>Fit</c>'s own <c>shuffle</c> reshuffles per epoch).
    /// </remarks>
    /// <exception cref="ArgumentException">Data of rank 0, targets too short for the windows, or a start or end index out of range.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A length, stride, rate or batch size that is not positive, or a stride or rate not below the length of the data.</exception>
    /// <example>
    /// <code>
    /// // Keras's example 1: steps 0..98, windows of 10 samples 2 apart, starting every 3 steps:
    /// // [0 2 4 ... 18], [3 5 ... 21], ..., [78 80 ... 96].
    /// var windows = Utils.TimeseriesDataset(torch.arange(99), null, sequenceLength: 10, sequenceStride: 3, samplingRate: 2);
    /// // Predict the next step from the last 10: targets shifted by the window length.
    /// var (x, y) = Utils.TimeseriesDataset(series[..^10], series[10..], sequenceLength: 10).ToTensors();
    /// </code>
    /// </example>
    public static Data.TimeseriesDataset TimeseriesDataset(Tensor data, Tensor? targets, int sequenceLength, int sequenceStride = 1,
        int samplingRate = 1, int? batchSize = 128, bool shuffle = false, int? seed = null, int? startIndex = null, int? endIndex = null) =>
        Windows(data, targets, sequenceLength, sequenceStride, samplingRate, batchSize, shuffle, seed, startIndex, endIndex, copy: true);

    /// <summary>
    /// <see cref="TimeseriesDataset(Tensor, Tensor?, int, int, int, int?, bool, int?, int?, int?)"/> over numpy
    /// <c>.npy</c> files opened with <see cref="Data.NpyArray.Open"/>, without loading them: the series is
    /// memory-mapped (<see cref="Data.NpyArray.AsTensor"/>), never copied, so each batch reads only the steps of
    /// its windows from the file, and in data-parallel training each rank only those of its own windows.
    /// </summary>
    /// <param name="data">The series, time on axis 0, e.g. <c>(timesteps, features)</c>; not float16 (which needs a copy to widen).</param>
    /// <param name="targets">Targets by time step, axis 0 aligned with <paramref name="data"/>, or null.</param>
    /// <param name="sequenceLength">Samples per window, positive.</param>
    /// <param name="sequenceStride">Steps between the starts of consecutive windows, positive and below the length of the data.</param>
    /// <param name="samplingRate">Steps between consecutive samples of a window, positive and below the length of the data.</param>
    /// <param name="batchSize">Windows per batch (default 128); null yields single windows without a batch axis.</param>
    /// <param name="shuffle">Whether to put the windows in a random order (once, when the dataset is made).</param>
    /// <param name="seed">The seed of the shuffle; null draws one from TorchSharp's generator.</param>
    /// <param name="startIndex">The first step used (inclusive); null for 0.</param>
    /// <param name="endIndex">The step after the last one used (exclusive); null for the length of the data.</param>
    /// <remarks>
    /// The arrays must stay open while the dataset is used (the dataset holds mappings of their files; disposing
    /// it releases them). Pages of the file that were touched count in the process's resident memory until the
    /// kernel reclaims them.
    /// </remarks>
    /// <exception cref="NotSupportedException">A float16 file.</exception>
    /// <example>
    /// <code>
    /// using var series = NpyArray.Open("series.npy");     // (100_000_000, 8) float32, 3.2 GB
    /// using var next = NpyArray.Open("next.npy");         // (100_000_000, 1)
    /// using var windows = Utils.TimeseriesDataset(series, next, sequenceLength: 48, batchSize: 256);
    /// model.Fit(windows, epochs: 3);
    /// </code>
    /// </example>
    public static Data.TimeseriesDataset TimeseriesDataset(Data.NpyArray data, Data.NpyArray? targets, int sequenceLength, int sequenceStride = 1,
        int samplingRate = 1, int? batchSize = 128, bool shuffle = false, int? seed = null, int? startIndex = null, int? endIndex = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var mapped = data.AsTensor();
        using var mappedTargets = targets?.AsTensor();
        return Windows(mapped, mappedTargets, sequenceLength, sequenceStride, samplingRate, batchSize, shuffle, seed, startIndex, endIndex, copy: false);
    }

    /// <summary>The windows over <paramref name="data"/>: the dataset holds a copy, or (<paramref name="copy"/> false) the same memory.</summary>
    private static Data.TimeseriesDataset Windows(Tensor data, Tensor? targets, int sequenceLength, int sequenceStride,
        int samplingRate, int? batchSize, bool shuffle, int? seed, int? startIndex, int? endIndex, bool copy)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.dim() == 0)
            throw new ArgumentException("Expected data with time on axis 0. Received a scalar (rank 0).", nameof(data));
        if (targets is not null && targets.dim() == 0)
            throw new ArgumentException("Expected targets with time on axis 0. Received a scalar (rank 0).", nameof(targets));
        long length = data.shape[0];
        if (sequenceLength <= 0)
            throw new ArgumentOutOfRangeException(nameof(sequenceLength), sequenceLength, $"`sequenceLength` must be higher than 0. Received: sequenceLength={sequenceLength}");
        if (startIndex is int start0)
        {
            if (start0 < 0)
                throw new ArgumentException($"`startIndex` must be 0 or greater. Received: startIndex={start0}", nameof(startIndex));
            if (start0 >= length)
                throw new ArgumentException($"`startIndex` must be lower than the length of the data. Received: startIndex={start0}, for data of length {length}", nameof(startIndex));
        }
        if (endIndex is int end0)
        {
            if (startIndex is int s && end0 <= s)
                throw new ArgumentException($"`endIndex` must be higher than `startIndex`. Received: startIndex={s}, and endIndex={end0}", nameof(endIndex));
            if (end0 >= length)
                throw new ArgumentException($"`endIndex` must be lower than the length of the data. Received: endIndex={end0}, for data of length {length}", nameof(endIndex));
            if (end0 <= 0)
                throw new ArgumentException($"`endIndex` must be higher than 0. Received: endIndex={end0}", nameof(endIndex));
        }
        CheckStep(samplingRate, nameof(samplingRate), length);
        CheckStep(sequenceStride, nameof(sequenceStride), length);
        if (batchSize is <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"`batchSize` must be higher than 0 (or null for no batching). Received: batchSize={batchSize}");

        long first = startIndex ?? 0, end = endIndex ?? length;
        long windows = end - first - (long)(sequenceLength - 1) * samplingRate;
        if (targets is not null)
            windows = Math.Min(windows, targets.shape[0]);
        var starts = new List<long>();
        for (long p = 0; p < windows; p += sequenceStride)
            starts.Add(first + p);
        if (targets is not null && starts.Count > 0 && starts[^1] >= targets.shape[0])
            throw new ArgumentException($"The window starting at step {starts[^1]} needs targets[{starts[^1]}], but targets has {targets.shape[0]} entries. " +
                "targets[i] is the target of the window starting at step i of data.", nameof(targets));
        var order = starts.ToArray();
        if (shuffle)
            new Random(seed ?? (int)torch.randint(0, 1_000_000, [1], dtype: ScalarType.Int64).item<long>()).Shuffle(order);
        var dataView = data.detach();
        var targetView = targets?.detach();
        if (!copy)
            return new Data.TimeseriesDataset(dataView, targetView, order, sequenceLength, samplingRate, batchSize);
        using (dataView)
        using (targetView)
            return new Data.TimeseriesDataset(dataView.clone(), targetView?.clone(), order, sequenceLength, samplingRate, batchSize);

        static void CheckStep(int value, string name, long length)
        {
            if (value <= 0)
                throw new ArgumentOutOfRangeException(name, value, $"`{name}` must be higher than 0. Received: {name}={value}");
            if (value >= length)
                throw new ArgumentOutOfRangeException(name, value, $"`{name}` must be lower than the length of the data. Received: {name}={value}, for data of length {length}");
        }
    }

    /// <summary>
    /// <see cref="TimeseriesDataset(Tensor, Tensor?, int, int, int, int?, bool, int?, int?, int?)"/> on a
    /// <c>double[timesteps, features]</c> array; <paramref name="targets"/> a <c>float</c> or <c>double</c>
    /// array with time on axis 0, or null. Both become float32, as <c>Fit</c> trains in float32.
    /// </summary>
    /// <exception cref="ArgumentException">Targets of another element type, or the errors of the tensor overload.</exception>
    /// <example>
    /// <code>
    /// double[,] readings = Csv.LoadColumns("weather.csv", "temperature", "humidity");
    /// var (x, y) = Utils.TimeseriesDataset(readings[..^1], temperatureNext, sequenceLength: 24).ToTensors();   // x: (windows, 24, 2)
    /// </code>
    /// </example>
    public static Data.TimeseriesDataset TimeseriesDataset(double[,] data, Array? targets, int sequenceLength, int sequenceStride = 1,
        int samplingRate = 1, int? batchSize = 128, bool shuffle = false, int? seed = null, int? startIndex = null, int? endIndex = null) =>
        FromArrays(data, targets, sequenceLength, sequenceStride, samplingRate, batchSize, shuffle, seed, startIndex, endIndex);

    /// <summary>
    /// <see cref="TimeseriesDataset(Tensor, Tensor?, int, int, int, int?, bool, int?, int?, int?)"/> on a
    /// <c>float[timesteps, features]</c> array; <paramref name="targets"/> a <c>float</c> or <c>double</c>
    /// array with time on axis 0, or null. Both become float32.
    /// </summary>
    /// <exception cref="ArgumentException">Targets of another element type, or the errors of the tensor overload.</exception>
    public static Data.TimeseriesDataset TimeseriesDataset(float[,] data, Array? targets, int sequenceLength, int sequenceStride = 1,
        int samplingRate = 1, int? batchSize = 128, bool shuffle = false, int? seed = null, int? startIndex = null, int? endIndex = null) =>
        FromArrays(data, targets, sequenceLength, sequenceStride, samplingRate, batchSize, shuffle, seed, startIndex, endIndex);

    /// <summary>
    /// <see cref="TimeseriesDataset(Tensor, Tensor?, int, int, int, int?, bool, int?, int?, int?)"/> on a
    /// <c>double[timesteps]</c> series, giving windows of shape <c>(sequenceLength)</c> as Keras does for
    /// 1-D data (a recurrent layer wants <c>(sequenceLength, 1)</c>: pass a <c>double[timesteps, 1]</c>, or
    /// <c>unsqueeze(-1)</c> the windows). <paramref name="targets"/> a <c>float</c> or <c>double</c> array
    /// with time on axis 0, or null. Both become float32.
    /// </summary>
    /// <exception cref="ArgumentException">Targets of another element type, or the errors of the tensor overload.</exception>
    /// <example>
    /// <code>
    /// double[] passengers = Csv.LoadColumn("airline-passengers.csv", "passengers");
    /// var (x, y) = Utils.TimeseriesDataset(passengers[..^12], passengers[12..], sequenceLength: 12).ToTensors();   // x: (windows, 12)
    /// </code>
    /// </example>
    public static Data.TimeseriesDataset TimeseriesDataset(double[] data, Array? targets, int sequenceLength, int sequenceStride = 1,
        int samplingRate = 1, int? batchSize = 128, bool shuffle = false, int? seed = null, int? startIndex = null, int? endIndex = null) =>
        FromArrays(data, targets, sequenceLength, sequenceStride, samplingRate, batchSize, shuffle, seed, startIndex, endIndex);

    /// <summary>
    /// <see cref="TimeseriesDataset(Tensor, Tensor?, int, int, int, int?, bool, int?, int?, int?)"/> on a
    /// <c>float[timesteps]</c> series, giving windows of shape <c>(sequenceLength)</c> as Keras does for 1-D data;
    /// <paramref name="targets"/> a <c>float</c> or <c>double</c> array with time on axis 0, or null. Both become float32.
    /// </summary>
    /// <exception cref="ArgumentException">Targets of another element type, or the errors of the tensor overload.</exception>
    public static Data.TimeseriesDataset TimeseriesDataset(float[] data, Array? targets, int sequenceLength, int sequenceStride = 1,
        int samplingRate = 1, int? batchSize = 128, bool shuffle = false, int? seed = null, int? startIndex = null, int? endIndex = null) =>
        FromArrays(data, targets, sequenceLength, sequenceStride, samplingRate, batchSize, shuffle, seed, startIndex, endIndex);

    // One overload per array type rather than one taking Array: TorchSharp converts 1-D arrays to
    // Tensor implicitly, which would make a call with a double[] ambiguous between Array and Tensor.
    private static Data.TimeseriesDataset FromArrays(Array data, Array? targets, int sequenceLength, int sequenceStride,
        int samplingRate, int? batchSize, bool shuffle, int? seed, int? startIndex, int? endIndex)
    {
        using var dataTensor = Data.TensorData.FromArray(data, nameof(data));
        using var targetTensor = targets is null ? null : Data.TensorData.FromArray(targets, nameof(targets));
        return TimeseriesDataset(dataTensor, targetTensor, sequenceLength, sequenceStride, samplingRate, batchSize, shuffle, seed, startIndex, endIndex);
    }
}
