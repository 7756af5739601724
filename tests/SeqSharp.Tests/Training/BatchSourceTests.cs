using Microsoft.Extensions.Logging;
using SeqSharp.Callbacks;
using SeqSharp.Data;
using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;

namespace SeqSharp.Tests.Training;

/// <summary>
/// Fit, Evaluate and Predict on batch sources (generators, re-iterable sequences, BatchDataset,
/// TimeseriesDataset): the same steps as the array path, Keras's epoch rules for finite and
/// endless sources, background preparation equal to the serial run, bad batches, failing
/// sources, and cancellation.
/// </summary>
public class BatchSourceTests(ITestOutputHelper output)
{
    private const int N = 24;

    /// <summary>The batches of (x, y) in order, as a generator that counts how many it made.</summary>
    private sealed class Counting(Tensor x, Tensor y, int batchSize)
    {
        public int Made;
        public int Passes;

        public IEnumerable<(Tensor X, Tensor Y)> Batches()
        {
            Passes++;
            for (long start = 0; start < x.shape[0]; start += batchSize)
            {
                Interlocked.Increment(ref Made);
                long count = Math.Min(batchSize, x.shape[0] - start);
                yield return (x.narrow(0, start, count).clone(), y.narrow(0, start, count).clone());
            }
        }

        public IEnumerable<(Tensor X, Tensor Y)> Endless()
        {
            while (true)
            {
                foreach (var b in Batches())
                    yield return b;
            }
        }
    }

    /// <summary>An indexable dataset over in-memory tensors.</summary>
    private sealed class Slices(Tensor x, Tensor y, int batchSize) : BatchDataset
    {
        public int EpochEnds;
        public override int? BatchCount => (int)((x.shape[0] + batchSize - 1) / batchSize);
        public override Batch GetBatch(int index)
        {
            long start = (long)index * batchSize;
            long count = Math.Min(batchSize, x.shape[0] - start);
            return (x.narrow(0, start, count).clone(), y.narrow(0, start, count).clone());
        }
        public override void OnEpochEnd() => EpochEnds++;
    }

    private static (Sequential Model, Tensor X, Tensor Y) Setup(int seed = 3)
    {
        manual_seed(seed);
        var model = TinyModels.LstmDense(ScalarType.Float64);
        var (x, y) = TinyModels.Data(N, ScalarType.Float64);
        model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae"]);
        return (model, x, y);
    }

    private static Sequential Copy(Sequential model)
    {
        var copy = TinyModels.LstmDense(ScalarType.Float64);
        copy.SetWeights(model.GetWeights());
        copy.Compile(optimizer: "adam", loss: "mse", metrics: ["mae"]);
        return copy;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Fit_Generator_SameStepsAsArraysWithoutShuffle(int workers)
    {
        var (model, x, y) = Setup();
        var reference = Copy(model);
        var source = new Counting(x, y, 5);

        var history = model.Fit(source.Batches(), epochs: 3, verbose: 0, workers: workers);
        var expected = reference.Fit(x, y, batchSize: 5, epochs: 3, shuffle: false, verbose: 0);

        TinyModels.AssertSameWeights(reference.GetWeights(), model.GetWeights());
        Assert.Equal(expected["loss"], history["loss"]);
        Assert.Equal(expected["mae"], history["mae"]);
        Assert.Equal(15, model.Optimizer!.Iterations);
        Assert.Equal(3, source.Passes);       // each epoch enumerates the source again
        Assert.Equal(15, source.Made);
    }

    [Fact]
    public void Fit_GeneratorWithSampleWeights_SameAsArraysWithSampleWeights()
    {
        var (model, x, y) = Setup();
        var reference = Copy(model);
        var w = rand(N, dtype: ScalarType.Float64);
        IEnumerable<(Tensor X, Tensor Y, Tensor? SampleWeight)> Batches()
        {
            for (long s = 0; s < N; s += 8)
                yield return (x.narrow(0, s, 8), y.narrow(0, s, 8), w.narrow(0, s, 8));
        }

        model.Fit(Batches(), epochs: 2, verbose: 0);
        reference.Fit(x, y, batchSize: 8, epochs: 2, shuffle: false, sampleWeight: w, verbose: 0);

        TinyModels.AssertSameWeights(reference.GetWeights(), model.GetWeights());
    }

    [Fact]
    public void Fit_EndlessGeneratorWithStepsPerEpoch_CutsEpochsOnOneStream()
    {
        var (model, x, y) = Setup();
        var reference = Copy(model);
        var source = new Counting(x, y, 6);      // 4 batches per pass

        var history = model.Fit(source.Endless(), epochs: 3, stepsPerEpoch: 3, verbose: 0, workers: 0);

        // 9 steps over one stream: passes 1 and 2 whole, batch 0 of pass 3; the same as 9 array steps in order.
        Assert.Equal(9, model.Optimizer!.Iterations);
        Assert.Equal(9, source.Made);
        Assert.Equal(3, history["loss"].Count);
        var xs = cat([x, x, x[..6]]);
        var ys = cat([y, y, y[..6]]);
        reference.Fit(xs, ys, batchSize: 6, epochs: 1, shuffle: false, verbose: 0);
        TinyModels.AssertSameWeights(reference.GetWeights(), model.GetWeights());
    }

    [Fact]
    public void Fit_FiniteSourceShorterThanStepsPerEpoch_EndsTheEpochWithAWarningAndStartsOver()
    {
        var (model, x, y) = Setup();
        var source = new Counting(x, y, 5);      // 5 batches per pass
        var logs = new CapturingFactory();
        model.LoggerFactory = logs;
        var steps = new List<int>();
        var perEpoch = new LambdaCallback(onEpochEnd: (epoch, _) => steps.Add((int)model.Optimizer!.Iterations));

        model.Fit(source.Batches(), epochs: 4, stepsPerEpoch: 3, verbose: 0, workers: 0, callbacks: [perEpoch]);

        // As Keras's EpochIterator: epoch 1 takes batches 0-2, epoch 2 batches 3-4 and runs out
        // (warning), epoch 3 starts a new pass (0-2), epoch 4 takes 3-4 and runs out again.
        Assert.Equal([3, 5, 8, 10], steps);
        Assert.Equal(2, source.Passes);
        var warnings = logs.Entries.Where(e => e.Level == LogLevel.Warning).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Contains("ran out of data", warnings[0].Message);
    }

    [Fact]
    public void Fit_BatchDataset_ShufflesBatchOrderPerEpoch_WorkersEqualSerial()
    {
        var (model, x, y) = Setup();
        var serial = Copy(model);
        var parallel = Copy(model);
        var unshuffled = Copy(model);
        var data = new Slices(x, y, 5);

        manual_seed(11);
        var h0 = serial.Fit(data, epochs: 3, verbose: 0, workers: 0);
        manual_seed(11);
        var h1 = model.Fit(data, epochs: 3, verbose: 0, workers: 1);
        manual_seed(11);
        var h3 = parallel.Fit(data, epochs: 3, verbose: 0, workers: 3, maxQueueSize: 4);
        unshuffled.Fit(data, epochs: 3, verbose: 0, shuffle: false);

        TinyModels.AssertSameWeights(serial.GetWeights(), model.GetWeights());
        TinyModels.AssertSameWeights(serial.GetWeights(), parallel.GetWeights());
        Assert.Equal(h0["loss"], h1["loss"]);
        Assert.Equal(h0["loss"], h3["loss"]);
        Assert.False(serial.GetWeights()[0].allclose(unshuffled.GetWeights()[0], rtol: 0, atol: 0), "Shuffling the batch order changed nothing.");
        Assert.Equal(12, data.EpochEnds);
    }

    [Fact]
    public void Fit_BatchDatasetShuffled_VisitsEveryBatchOncePerEpoch()
    {
        var (model, x, y) = Setup();
        var seen = new List<int>();
        var data = new Recording(x, y, seen);

        model.Fit(data, epochs: 2, verbose: 0, workers: 2);

        Assert.Equal(10, seen.Count);
        Assert.Equal([0, 1, 2, 3, 4], seen.Take(5).Order());
        Assert.Equal([0, 1, 2, 3, 4], seen.Skip(5).Order());
    }

    private sealed class Recording(Tensor x, Tensor y, List<int> seen) : BatchDataset
    {
        public override int? BatchCount => 5;
        public override Batch GetBatch(int index)
        {
            lock (seen)
                seen.Add(index);
            return (x.narrow(0, index * 4, 4), y.narrow(0, index * 4, 4));
        }
    }

    [Fact]
    public void Fit_TimeseriesDataset_SameAsItsTensors()
    {
        manual_seed(5);
        var series = randn(60, 2, dtype: ScalarType.Float64);
        using var windows = Utils.TimeseriesDataset(series, series[.., 0], sequenceLength: 5, batchSize: 8);
        var model = new Sequential([new GRU(3, inputShape: [5, 2], dtype: ScalarType.Float64), new Dense(1, dtype: ScalarType.Float64)]);
        model.Compile(optimizer: "adam", loss: "mse");
        var reference = new Sequential([new GRU(3, inputShape: [5, 2], dtype: ScalarType.Float64), new Dense(1, dtype: ScalarType.Float64)]);
        reference.SetWeights(model.GetWeights());
        reference.Compile(optimizer: "adam", loss: "mse");
        var (xs, ys) = windows.ToTensors();

        model.Fit(windows, epochs: 2, shuffle: false, verbose: 0);
        reference.Fit(xs, ys!, batchSize: 8, epochs: 2, shuffle: false, verbose: 0);

        TinyModels.AssertSameWeights(reference.GetWeights(), model.GetWeights());
        Assert.Equal(reference.Evaluate(xs, ys!, verbose: 0)["loss"], model.Evaluate(windows, verbose: 0)["loss"], 12);
        Assert.True(reference.Predict(xs, verbose: 0).allclose(model.Predict(windows, verbose: 0), rtol: 0, atol: 0));
    }

    [Fact]
    public void Fit_ValidationSourceWithSteps_EvaluatesTheSameFirstBatchesEachEpoch()
    {
        var (model, x, y) = Setup();
        var val = new Counting(x, y, 4);     // 6 batches, only the first 2 used
        var valLosses = new List<double>();
        var expected = new List<double>();
        var check = new LambdaCallback(onEpochEnd: (_, logs) =>
        {
            valLosses.Add(logs["val_loss"]);
            expected.Add(model.Evaluate(x[..8], y[..8], batchSize: 4, verbose: 0)["loss"]);
        });

        model.Fit(new Counting(x, y, 6).Batches(), epochs: 2, verbose: 0, validationData: val.Batches(), validationSteps: 2, callbacks: [check]);

        Assert.Equal(expected.Count, valLosses.Count);
        for (int k = 0; k < expected.Count; k++)
            Assert.Equal(expected[k], valLosses[k], 12);
        Assert.Equal(2, val.Passes);
    }

    [Fact]
    public void Fit_BadBatch_NamesItsIndexAndWhatWasExpected_KeepsEarlierSteps()
    {
        var (model, x, y) = Setup();
        IEnumerable<(Tensor X, Tensor Y)> Batches()
        {
            yield return (x[..4], y[..4]);
            yield return (x[4..8], y[4..8]);
            yield return (randn(4, 5, 3, dtype: ScalarType.Float64), y[8..12]);
        }

        var e = Assert.Throws<ArgumentException>(() => model.Fit(Batches(), verbose: 0, workers: 1));

        Assert.Contains("Batch 2 of the training data", e.Message);
        Assert.Contains("expected axis -1 of the input shape to have value 2", e.Message);
        Assert.Contains("X of shape (None, 5, 2)", e.Message);
        Assert.Equal(2, model.Optimizer!.Iterations);
        Assert.False(model.training);
    }

    [Fact]
    public void Fit_BatchWithoutTargetsOrWithNaN_IsRefusedByIndex()
    {
        var (model, x, y) = Setup();
        var bad = y[..4].clone();
        bad[1, 2, 0] = double.NaN;
        var e = Assert.Throws<ArgumentException>(() => model.Fit(new[] { (x[..4], y[..4]), (x[4..8], bad) }, verbose: 0));
        Assert.Contains("Batch 1", e.Message);
        Assert.Contains("NaN", e.Message);
        var none = Assert.Throws<ArgumentException>(() => model.Fit(new[] { (x[..4], (Tensor)null!) }, verbose: 0));
        Assert.Contains("Batch 0 of the training data has no targets", none.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Fit_GeneratorThrows_StopsWithThatExceptionAndKeepsCompletedSteps(int workers)
    {
        var (model, x, y) = Setup();
        var reference = Copy(model);
        IEnumerable<(Tensor X, Tensor Y)> Batches()
        {
            for (int k = 0; k < 3; k++)
                yield return (x.narrow(0, k * 4, 4), y.narrow(0, k * 4, 4));
            throw new IOException("disk gone");
        }
        var ended = false;

        var e = Assert.Throws<IOException>(() => model.Fit(Batches(), verbose: 0, workers: workers,
            callbacks: [new LambdaCallback(onTrainEnd: _ => ended = true)]));

        Assert.Equal("disk gone", e.Message);
        Assert.False(ended);
        reference.Fit(x[..12], y[..12], batchSize: 4, shuffle: false, verbose: 0);
        TinyModels.AssertSameWeights(reference.GetWeights(), model.GetWeights());
    }

    [Fact]
    public void Fit_Cancelled_StopsAtTheNextBatchRunsTrainEndAndThrows()
    {
        var (model, x, y) = Setup();
        var reference = Copy(model);
        using var cancel = new CancellationTokenSource();
        var ended = false;
        var callbacks = new List<Callback>
        {
            new LambdaCallback(onTrainBatchEnd: (batch, _) => { if (batch == 2) cancel.Cancel(); }, onTrainEnd: _ => ended = true),
        };

        Assert.ThrowsAny<OperationCanceledException>(() => model.Fit(x, y, batchSize: 4, epochs: 5, shuffle: false, verbose: 0,
            callbacks: callbacks, cancellationToken: cancel.Token));

        Assert.True(ended);
        Assert.Equal(3, model.Optimizer!.Iterations);
        Assert.False(model.training);
        reference.Fit(x[..12], y[..12], batchSize: 4, shuffle: false, verbose: 0);
        TinyModels.AssertSameWeights(reference.GetWeights(), model.GetWeights());
        // The model trains normally afterwards.
        model.Fit(x, y, verbose: 0);
        Assert.Equal(4, model.Optimizer.Iterations);
    }

    [Fact]
    public void EvaluateAndPredict_Cancelled_Throw()
    {
        var (model, x, y) = Setup();
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => model.Evaluate(x, y, verbose: 0, cancellationToken: cancel.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => model.Predict(x, verbose: 0, cancellationToken: cancel.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => model.Fit(new Counting(x, y, 4).Endless(), stepsPerEpoch: 2, verbose: 0, cancellationToken: cancel.Token));
        Assert.Equal(0, model.Optimizer!.Iterations);
    }

    [Fact]
    public void EvaluateAndPredict_Generator_SameAsArrays()
    {
        var (model, x, y) = Setup();
        var source = new Counting(x, y, 5);

        var scores = model.Evaluate(source.Batches(), verbose: 0);
        var expected = model.Evaluate(x, y, batchSize: 5, verbose: 0);
        var first = model.Evaluate(source.Endless(), steps: 2, verbose: 0);
        var prediction = model.Predict(source.Batches().Select(b => b.X), verbose: 0);

        Assert.Equal(expected["loss"], scores["loss"], 12);
        Assert.Equal(expected["mae"], scores["mae"], 12);
        Assert.Equal(model.Evaluate(x[..10], y[..10], verbose: 0)["loss"], first["loss"], 12);
        Assert.True(model.Predict(x, verbose: 0).allclose(prediction, rtol: 0, atol: 0));
    }

    [Fact]
    public void Fit_EndlessBatchDatasetWithoutSteps_Refused()
    {
        var (model, x, y) = Setup();
        var e = Assert.Throws<ArgumentException>(() => model.Fit(new EndlessData(x, y), verbose: 0));
        Assert.Contains("stepsPerEpoch", e.Message);
        model.Fit(new EndlessData(x, y), stepsPerEpoch: 3, epochs: 2, verbose: 0);
        Assert.Equal(6, model.Optimizer!.Iterations);
    }

    private sealed class EndlessData(Tensor x, Tensor y) : BatchDataset
    {
        public override int? BatchCount => null;
        public override Batch GetBatch(int index) => (x.narrow(0, index % 6 * 4, 4), y.narrow(0, index % 6 * 4, 4));
    }

    [Fact]
    public void TrainOnBatch_TestOnBatch_PredictOnBatch_MatchFitEvaluatePredict()
    {
        var (model, x, y) = Setup();
        var reference = Copy(model);

        double before = model.TestOnBatch(x[..8], y[..8]);
        double loss = model.TrainOnBatch(x[..8], y[..8]);
        var history = reference.Fit(x[..8], y[..8], batchSize: 8, shuffle: false, verbose: 0);

        Assert.Equal(history["loss"].Single(), loss, 12);
        Assert.Equal(before, loss, 12);        // the loss of the batch before its step
        TinyModels.AssertSameWeights(reference.GetWeights(), model.GetWeights());
        Assert.Equal(reference.Evaluate(x, y, verbose: 0)["loss"], model.TestOnBatch(x, y), 12);
        Assert.True(reference.Predict(x, verbose: 0).allclose(model.PredictOnBatch(x), rtol: 0, atol: 0));
        Assert.False(model.training);
    }

    /// <summary>
    /// The memory bound: 100,000 windows of (200, 16) float32 (1.28 GB if materialised)
    /// streamed from a TimeseriesDataset (batches of 2,000 windows, 25.6 MB each) through Fit with a
    /// background worker preparing up to 2 batches ahead; resident memory is
    /// sampled after every batch and must grow by less than 300 MB. Test parallelization is off in
    /// this assembly, so no other test allocates meanwhile.
    /// </summary>
    [Fact]
    public void Fit_TimeseriesDataset100kWindows_ResidentMemoryStaysBounded()
    {
        const int windows = 100_000, length = 200, features = 16, batch = 2000;
        manual_seed(2);
        var series = randn(windows + length - 1, features);
        using var data = Utils.TimeseriesDataset(series, series[.., 0], sequenceLength: length, batchSize: batch);
        Assert.Equal(windows, data.Count);
        var model = new Sequential([new GlobalAveragePooling1D(inputShape: [length, features]), new Dense(1)]);
        model.Compile(optimizer: "sgd", loss: "mse");
        model.TrainOnBatch(data.GetBatch(0).X, data.GetBatch(0).Y!);   // warm up: optimizer slots, allocator pools
        GC.Collect();
        long baseline = ResidentBytes(), peak = baseline;
        var sample = new LambdaCallback(onTrainBatchEnd: (_, _) => peak = Math.Max(peak, ResidentBytes()));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;

        model.Fit(data, epochs: 1, verbose: 0, workers: 1, maxQueueSize: 2, callbacks: [sample]);

        cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu;
        long growth = peak - baseline;
        output.WriteLine($"{windows:N0} windows of ({length}, {features}) in {clock.Elapsed.TotalSeconds:F1} s ({cpu.TotalSeconds:F1} s of CPU): resident {baseline / 1e6:F0} MB before, " +
            $"peak {peak / 1e6:F0} MB, growth {growth / 1e6:F1} MB (materialised: {(long)windows * length * features * 4 / 1e9:F2} GB)");
        Assert.Equal(1 + windows / batch, model.Optimizer!.Iterations);
        Assert.True(growth < 300_000_000, $"Resident memory grew by {growth / 1e6:F0} MB.");
    }

    private static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        throw new InvalidOperationException("No VmRSS in /proc/self/status.");
    }

    private sealed record Entry(LogLevel Level, string Message);

    private sealed class CapturingFactory : ILoggerFactory
    {
        public List<Entry> Entries { get; } = [];
        public ILogger CreateLogger(string categoryName) => new Logger(this);
        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();
        public void Dispose() { }

        private sealed class Logger(CapturingFactory owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner.Entries)
                    owner.Entries.Add(new Entry(logLevel, formatter(state, exception)));
            }
        }
    }
}
