using System.Diagnostics;
using System.Globalization;
using System.Text;
using SeqSharp.Callbacks;
using SeqSharp.Data;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;

namespace SeqSharp.Tests.Data;

/// <summary>
/// <see cref="NpyDataset"/>: batches are the files' rows (checked against the arrays written), Fit on it
/// equals Fit on the same arrays in memory, bad files are refused, and training on a 4.3 GB file keeps
/// a child process's resident memory growth under 500 MB.
/// </summary>
public class NpyDatasetTests(ITestOutputHelper output)
{
    private const string ChildFolderVariable = "SEQSHARP_NPY_DATASET_FOLDER";

    // The large file: (Rows, Steps, Features) float32 = 4.29 GB, and targets (Rows,).
    private const long Rows = 262_144, Steps = 64, Features = 64;
    private const int BigBatch = 2048, TrainedBatches = 16;

    private static (Tensor X, Tensor Y) Arrays(int rows = 10)
    {
        manual_seed(4);
        return (randn(rows, 4, 3, dtype: ScalarType.Float64), randn(rows, dtype: ScalarType.Float64));
    }

    [Fact]
    public void GetBatch_ReadsTheRowsOfEachBatch_LastOneShorter()
    {
        using var folder = new TempFolder();
        var (x, y) = Arrays();
        NpyArray.Save(folder.File("x.npy"), x);
        NpyArray.Save(folder.File("y.npy"), y.to_type(ScalarType.Int32));
        using var data = new NpyDataset(folder.File("x.npy"), folder.File("y.npy"), batchSize: 4);
        Assert.Equal(10, data.Count);
        Assert.Equal(3, data.BatchCount);
        for (int i = 0; i < 3; i++)
        {
            var batch = data.GetBatch(i);
            long start = i * 4, rows = Math.Min(4, 10 - start);
            Assert.Equal(ScalarType.Float64, batch.X.dtype);
            Assert.Equal(ScalarType.Int32, batch.Y!.dtype);
            TensorAssert.Close(x.narrow(0, start, rows), batch.X, atol: 0, what: $"X of batch {i}");
            Assert.Equal(y.narrow(0, start, rows).to_type(ScalarType.Int32).data<int>().ToArray(), batch.Y.data<int>().ToArray());
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => data.GetBatch(3));
        Assert.Null(new NpyDataset(data.X, batchSize: 4).GetBatch(0).Y);
    }

    [Fact]
    public void GetBatchRows_ReadsOnlyThoseRowsOfTheBatch()
    {
        using var folder = new TempFolder();
        var (x, y) = Arrays();
        NpyArray.Save(folder.File("x.npy"), x);
        NpyArray.Save(folder.File("y.npy"), y);
        using var data = new NpyDataset(folder.File("x.npy"), folder.File("y.npy"), batchSize: 4);
        Assert.Equal(new long?[] { 4, 4, 2 }, Enumerable.Range(0, 3).Select(data.BatchLength));
        var rows = data.GetBatchRows(1, 1, 2);   // rows 5 and 6 of the files
        TensorAssert.Close(x.narrow(0, 5, 2), rows.X, atol: 0, what: "X rows 5..6");
        TensorAssert.Close(y.narrow(0, 5, 2), rows.Y!, atol: 0, what: "Y rows 5..6");
        Assert.Equal(new long[] { 0, 4, 3 }, data.GetBatchRows(2, 2, 0).X.shape);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.GetBatchRows(2, 1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.BatchLength(3));
    }

    [Fact]
    public void TimeseriesDataset_OverNpyFiles_GivesTheWindowsOfTheSeries()
    {
        using var folder = new TempFolder();
        manual_seed(9);
        var series = randn(40, 3);
        var next = series[.., 0..1].roll(-1, 0);
        NpyArray.Save(folder.File("series.npy"), series);
        NpyArray.Save(folder.File("next.npy"), next);
        using var seriesFile = NpyArray.Open(folder.File("series.npy"));
        using var nextFile = NpyArray.Open(folder.File("next.npy"));
        using var mapped = Utils.TimeseriesDataset(seriesFile, nextFile, sequenceLength: 5, sequenceStride: 2, batchSize: 4, startIndex: 1);
        Assert.Equal(18, mapped.Count);   // starts 1, 3, ..., 35
        var rows = mapped.GetBatchRows(2, 1, 3);   // windows 9..11: starts 19, 21, 23
        for (int i = 0; i < 3; i++)
        {
            long start = 19 + 2 * i;
            TensorAssert.Close(series.narrow(0, start, 5), rows.X[i], atol: 0, what: $"window starting at {start}");
            TensorAssert.Close(next[start], rows.Y![i], atol: 0, what: $"target of the window starting at {start}");
        }
    }

    [Fact]
    public void Fit_OnFiles_EqualsFitOnTheSameArraysInMemory()
    {
        using var folder = new TempFolder();
        var (x, y) = Arrays(rows: 24);
        NpyArray.Save(folder.File("x.npy"), x);
        NpyArray.Save(folder.File("y.npy"), y);
        Sequential Model()
        {
            manual_seed(9);
            var model = new Sequential([new LSTM(5, inputShape: [4, 3], dtype: ScalarType.Float64), new Dense(1, dtype: ScalarType.Float64)]);
            model.Compile(optimizer: new Adam(learningRate: 0.01), loss: "mse");
            return model;
        }
        var fromArrays = Model();
        fromArrays.Fit(x, y, batchSize: 8, epochs: 3, shuffle: false, verbose: 0);
        var fromFiles = Model();
        using (var data = new NpyDataset(folder.File("x.npy"), folder.File("y.npy"), batchSize: 8))
            fromFiles.Fit(data, epochs: 3, shuffle: false, verbose: 0);
        Assert.Equal(9, fromFiles.Optimizer!.Iterations);
        foreach (var (a, b) in fromArrays.GetWeights().Zip(fromFiles.GetWeights()))
            TensorAssert.Close(a, b, atol: 1e-12, what: "weights after 3 epochs");
        // Evaluate reads them the same way.
        using var again = new NpyDataset(folder.File("x.npy"), folder.File("y.npy"), batchSize: 5);
        Assert.Equal(fromFiles.Evaluate(x, y, verbose: 0)["loss"], fromFiles.Evaluate(again, verbose: 0)["loss"], 12);
    }

    [Fact]
    public void Constructor_BadFilesOrArguments_SayWhatWasReceived()
    {
        using var folder = new TempFolder();
        var (x, y) = Arrays();
        NpyArray.Save(folder.File("x.npy"), x);
        NpyArray.Save(folder.File("y9.npy"), y[..9]);
        NpyArray.Save(folder.File("scalar.npy"), tensor(1.5));
        var rows = Assert.Throws<ArgumentException>(() => new NpyDataset(folder.File("x.npy"), folder.File("y9.npy")));
        Assert.Contains("has 10", rows.Message);
        Assert.Contains("has 9", rows.Message);
        Assert.Contains("scalar.npy", Assert.Throws<ArgumentException>(() => new NpyDataset(folder.File("scalar.npy"))).Message);
        Assert.Contains("batchSize=0", Assert.Throws<ArgumentOutOfRangeException>(() => new NpyDataset(folder.File("x.npy"), batchSize: 0)).Message);
        Assert.Throws<FileNotFoundException>(() => new NpyDataset(folder.File("missing.npy")));
    }

    /// <summary>
    /// A 4.3 GB float32 file (created sparse, so it takes no disk and no time to write) trains in a
    /// child process on 16 of its 128 batches of 2,048 rows, in a random order over the whole file;
    /// the child's peak resident memory may grow by less than 500 MB over its baseline after a
    /// warm-up step (loading the file would grow it by 4.3 GB). Markers in the first and last rows check that the last
    /// batch really comes from the end of the file.
    /// </summary>
    [Fact]
    public void Fit_On4GbFile_ChildResidentMemoryGrowsLessThan500MB()
    {
        // In /dev/shm when there is one: reading the holes of a sparse file there costs a copy of the
        // zero page (about 2.6 GB/s here), where a disk filesystem zero-fills page-cache pages (about
        // 0.2 GB/s here). Neither holds the file's 4.3 GB in memory or on disk.
        using var folder = Directory.Exists("/dev/shm") ? new TempFolder("/dev/shm") : new TempFolder();
        WriteSparseFloat32(Path.Combine(folder.Path, "x.npy"), [Rows, Steps, Features],
            (0, 1.0f), (Rows * Steps * Features - 1, 2.0f));
        var targets = zeros(Rows);
        targets[Rows - 1] = tensor(3.0f);
        NpyArray.Save(Path.Combine(folder.Path, "y.npy"), targets);
        Assert.Equal(Rows * Steps * Features * 4 + 128, new FileInfo(Path.Combine(folder.Path, "x.npy")).Length);

        var result = ChildProcess.Run($"{nameof(NpyDatasetTests)}.{nameof(TrainInChild)}", TimeSpan.FromMinutes(3),
            new Dictionary<string, string> { [ChildFolderVariable] = folder.Path });

        output.WriteLine(result.Output);
        Assert.True(result.ExitCode == 0, result.ToString());
        long growth = Value(result.Output, "GROWTH");
        Assert.Equal(TrainedBatches, Value(result.Output, "STEPS"));
        Assert.Equal(1, Value(result.Output, "MARKERS"));
        Assert.True(growth < 500_000_000, $"Peak resident memory grew by {growth / 1e6:F0} MB.\n{result}");
    }

    [ChildScenario]
    internal static void TrainInChild()
    {
        string folder = Environment.GetEnvironmentVariable(ChildFolderVariable)!;
        set_num_threads(1);   // this much work gains nothing from a second thread on a shared machine
        using var data = new NpyDataset(Path.Combine(folder, "x.npy"), Path.Combine(folder, "y.npy"), batchSize: BigBatch);
        var model = new Sequential([new GlobalAveragePooling1D(inputShape: [Steps, Features]), new Dense(1)]);
        model.Compile(optimizer: "sgd", loss: "mse");
        var last = data.GetBatch(data.BatchCount!.Value - 1);
        bool markers = last.X[^1, ^1, ^1].item<float>() == 2.0f && last.Y![^1].item<float>() == 3.0f && data.GetBatch(0).X[0, 0, 0].item<float>() == 1.0f;
        model.TrainOnBatch(last.X, last.Y!);   // warm-up: LibTorch, the optimizer's slots, allocator pools
        last.X.Dispose();
        last.Y!.Dispose();
        GC.Collect();
        long baseline = StatusBytes("VmRSS:");
        File.WriteAllText("/proc/self/clear_refs", "5");   // resets VmHWM to the current resident size
        long sampledPeak = baseline;
        var sample = new LambdaCallback(onTrainBatchEnd: (_, _) => sampledPeak = Math.Max(sampledPeak, StatusBytes("VmRSS:")));
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        // 16 batches in a random order of all 128: rows from all over the file, 0.5 GB of it read,
        // which keeps the test well under a minute on a loaded 2-core machine.
        model.Fit(data, epochs: 1, stepsPerEpoch: TrainedBatches, verbose: 0, workers: 1, maxQueueSize: 2, callbacks: [sample]);
        long peak = Math.Max(sampledPeak, StatusBytes("VmHWM:"));
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"STEPS {model.Optimizer!.Iterations - 1}");
        text.AppendLine(CultureInfo.InvariantCulture, $"MARKERS {(markers ? 1 : 0)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"GROWTH {peak - baseline}");
        text.AppendLine(CultureInfo.InvariantCulture, $"BASELINE {baseline}");
        text.AppendLine(CultureInfo.InvariantCulture, $"SECONDS {clock.Elapsed.TotalSeconds:F1}");
        text.AppendLine(CultureInfo.InvariantCulture, $"CPU_SECONDS {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:F1}");
        text.AppendLine(CultureInfo.InvariantCulture, $"FILE_BYTES {new FileInfo(Path.Combine(folder, "x.npy")).Length}");
        Console.Write(text);
    }

    /// <summary>Writes a .npy header for a float32 array and extends the file to its full size without writing the zeros (a sparse file), then the given (element, value) pairs.</summary>
    private static void WriteSparseFloat32(string path, long[] shape, params (long Element, float Value)[] values)
    {
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({string.Join(", ", shape)}), }}";
        string header = dict.PadRight(128 - 10 - 1) + "\n";
        using var stream = File.Create(path);
        stream.Write([0x93, .. "NUMPY"u8, 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        long elements = shape.Aggregate(1L, (a, b) => a * b);
        stream.SetLength(128 + elements * 4);
        foreach (var (element, value) in values)
        {
            stream.Position = 128 + element * 4;
            stream.Write(BitConverter.GetBytes(value));
        }
    }

    private static long Value(string text, string key)
    {
        var line = text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(key + " ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"No '{key}' line in the child's output:\n{text}");
        return long.Parse(line[(key.Length + 1)..], CultureInfo.InvariantCulture);
    }

    private static long StatusBytes(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"No {key} in /proc/self/status.");
    }
}
