using System.Collections.Concurrent;
using SeqSharp.Data;
using SeqSharp.Distributed;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;
using static SeqSharp.Tests.Distributed.DataParallelTests;

namespace SeqSharp.Tests.Distributed;

/// <summary>
/// Data-parallel Fit and Evaluate on batch sources, with ranks as threads of this process: the global batches
/// of one process, split between the ranks, each rank reading only its own rows of an indexable dataset.
/// </summary>
public class DataParallelSourceTests(ITestOutputHelper output)
{
    // 58 steps of 2 features: 53 windows of 6 steps; batches of 10 leave a last batch of 3 (1 + 1 + 1 on 3 ranks, 2 + 1 on 2).
    // Validation: 23 windows in batches of 10, the last of 3.
    private static (TimeseriesDataset Train, TimeseriesDataset Validation) Windows(int batchSize, int validationBatch = 10)
    {
        var g = new TorchSharp.torch.Generator(77);
        var series = randn([90, 2], generator: g);
        var targets = series.sum(1, keepdim: true).roll(-1, 0) * 0.3f + 0.05f;
        var train = Utils.TimeseriesDataset(series[..58], targets[..58], sequenceLength: 6, batchSize: batchSize, shuffle: true, seed: 3);
        var validation = Utils.TimeseriesDataset(series[62..], targets[62..], sequenceLength: 6, batchSize: validationBatch);
        return (train, validation);
    }

    [Theory]
    [InlineData(2, 10)]
    [InlineData(3, 10)]   // every batch splits 4 + 3 + 3, the last (3 windows) 1 + 1 + 1
    [InlineData(3, 13)]   // the last batch of 1 window leaves two ranks with no rows
    public void Fit_TimeseriesDataset_MatchesOneProcessOnTheSameGlobalBatches(int size, int batchSize)
    {
        var (train, validation) = Windows(batchSize);
        using var _ = train;
        using var __ = validation;
        var single = Model(5);
        var expected = single.Fit(train, epochs: 3, verbose: 0, shuffle: false, validationData: validation);

        var models = Enumerable.Range(0, size).Select(_ => Model(5)).ToArray();
        var histories = RunRanks(size, (rank, dp) => models[rank].Fit(train, epochs: 3, verbose: 0, shuffle: false, validationData: validation));

        double worst = 0;
        foreach (var key in new[] { "loss", "mae", "val_loss", "val_mae" })
        {
            for (int e = 0; e < 3; e++)
            {
                double want = expected[key][e];
                for (int r = 0; r < size; r++)
                {
                    double got = histories[r][key][e];
                    double relative = Math.Abs(got - want) / Math.Abs(want);
                    worst = Math.Max(worst, relative);
                    Assert.True(relative <= 1e-5, $"{key} epoch {e} rank {r}: {got:R} vs one process {want:R}");
                    Assert.Equal(histories[0][key][e], got);
                }
            }
        }
        for (int r = 1; r < size; r++)
            TinyModels.AssertSameWeights(models[0].GetWeights(), models[r].GetWeights());
        var ws = single.GetWeights();
        var w0 = models[0].GetWeights();
        for (int i = 0; i < ws.Count; i++)
            TensorAssert.Close(ws[i], w0[i], atol: 1e-5, rtol: 1e-4, what: $"weight {i} vs one process");
        output.WriteLine($"{size} ranks, batch {batchSize}: largest relative difference of the logs from one process {worst:E2}");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Fit_EachRankAsksOnlyForItsRows_InRank0sShuffledOrder(int size)
    {
        var (x, y) = DataParallelTests.Data(47);
        var sources = Enumerable.Range(0, size).Select(_ => new RecordingDataset(x, y, batchSize: 8)).ToArray();
        var models = Enumerable.Range(0, size).Select(_ => Model(2)).ToArray();
        RunRanks(size, (rank, dp) => models[rank].Fit(sources[rank], epochs: 2, verbose: 0, workers: 1));

        int batches = sources[0].BatchCount!.Value;   // 6: five of 8 rows, the last of 7
        var probe = new DataParallel(ThreadCommunicator.Group(size)[0]);
        for (int r = 0; r < size; r++)
        {
            var calls = sources[r].Calls.ToList();
            Assert.Equal(2 * batches, calls.Count);
            Assert.Equal(0, sources[r].WholeBatches);
            foreach (var (index, start, count) in calls)
                Assert.Equal(probe.Share(sources[r].BatchLength(index)!.Value, r), (start, count));
            // Each epoch visits every batch once, in the same order on every rank (rank 0's draw).
            var order = sources[r].Order.ToList();
            Assert.Equal(sources[0].Order.ToList(), order);
            Assert.Equal(Enumerable.Range(0, batches), order.Take(batches).Order());
            Assert.Equal(Enumerable.Range(0, batches), order.Skip(batches).Order());
            output.WriteLine($"rank {r}: read {calls.Sum(c => c.Count)} of {2 * x.shape[0]} rows; order {string.Join(" ", order)}");
        }
        for (int r = 1; r < size; r++)
            TinyModels.AssertSameWeights(models[0].GetWeights(), models[r].GetWeights());
    }

    [Fact]
    public void Fit_DatasetWithoutBatchLength_EveryRankMakesTheWholeBatchAndKeepsItsRows()
    {
        var (x, y) = DataParallelTests.Data(30);
        var single = Model(8);
        var expected = single.Fit(new WholeBatches(x, y, 9), epochs: 2, verbose: 0, shuffle: false);
        var models = new[] { Model(8), Model(8) };
        var histories = RunRanks(2, (rank, dp) => models[rank].Fit(new WholeBatches(x, y, 9), epochs: 2, verbose: 0, shuffle: false));
        for (int e = 0; e < 2; e++)
            Assert.True(Math.Abs(histories[1]["loss"][e] - expected["loss"][e]) <= 1e-5 * expected["loss"][e], $"epoch {e}: {histories[1]["loss"][e]:R} vs {expected["loss"][e]:R}");
        TinyModels.AssertSameWeights(models[0].GetWeights(), models[1].GetWeights());
    }

    [Fact]
    public void Fit_Stream_EveryRankReadsTheWholeStreamAndKeepsItsShare_MatchesOneProcess()
    {
        var (x, y) = DataParallelTests.Data(40);
        var (vx, vy) = DataParallelTests.Data(15);
        IEnumerable<(Tensor X, Tensor Y)> Stream(Tensor a, Tensor b, int batch)
        {
            for (long s = 0; s < a.shape[0]; s += batch)
                yield return (a.narrow(0, s, Math.Min(batch, a.shape[0] - s)), b.narrow(0, s, Math.Min(batch, a.shape[0] - s)));
        }
        var single = Model(4);
        var expected = single.Fit(Stream(x, y, 12), epochs: 2, verbose: 0, validationData: Stream(vx, vy, 6));
        var models = new[] { Model(4), Model(4), Model(4) };
        var histories = RunRanks(3, (rank, dp) => models[rank].Fit(Stream(x, y, 12), epochs: 2, verbose: 0, validationData: Stream(vx, vy, 6)));
        foreach (var key in new[] { "loss", "mae", "val_loss", "val_mae" })
        {
            for (int e = 0; e < 2; e++)
                Assert.True(Math.Abs(histories[2][key][e] - expected[key][e]) <= 1e-5 * expected[key][e], $"{key} epoch {e}: {histories[2][key][e]:R} vs {expected[key][e]:R}");
        }
        TinyModels.AssertSameWeights(models[0].GetWeights(), models[2].GetWeights());
    }

    [Fact]
    public void Fit_StreamsOfDifferentLengths_EveryRankThrows_NoHang()
    {
        var (x, y) = DataParallelTests.Data(24);
        var models = new[] { Model(4), Model(4) };
        var before = models[0].GetWeights().Select(w => w.clone()).ToList();
        var errors = RunRanks(2, (rank, dp) =>
        {
            // Rank 1's stream has one batch fewer.
            var batches = Enumerable.Range(0, rank == 0 ? 3 : 2).Select(i => (x.narrow(0, 8 * i, 8), y.narrow(0, 8 * i, 8)));
            return Record.Exception(() => models[rank].Fit(batches, epochs: 1, verbose: 0, workers: 0));
        });
        Assert.All(errors, e => Assert.Contains("ended at different batches", Assert.IsType<DistributedTrainingException>(e).Message));
        TinyModels.AssertSameWeights(models[0].GetWeights(), models[1].GetWeights());
        Assert.NotEqual(before[0].data<float>().ToArray(), models[0].GetWeights()[0].data<float>().ToArray());   // the two common steps were taken
    }

    [Fact]
    public void Fit_SourceFailsOnOneRank_EveryRankThrowsBeforeThatStep()
    {
        var (x, y) = DataParallelTests.Data(32);
        var models = new[] { Model(6), Model(6) };
        var sources = new[] { new RecordingDataset(x, y, 8), new RecordingDataset(x, y, 8) { FailAtCall = 3 } };
        var errors = RunRanks(2, (rank, dp) => Record.Exception(() => models[rank].Fit(sources[rank], epochs: 1, verbose: 0, shuffle: false, workers: 0)));
        var own = Assert.IsType<DistributedTrainingException>(errors[1]);
        Assert.Contains("injected read failure", own.InnerException!.Message);
        Assert.Contains("other rank(s) failed", Assert.IsType<DistributedTrainingException>(errors[0]).Message);
        TinyModels.AssertSameWeights(models[0].GetWeights(), models[1].GetWeights());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Evaluate_Dataset_MatchesOneProcess(int size)
    {
        var (train, validation) = Windows(10, validationBatch: 7);
        using var _ = train;
        using var __ = validation;
        var single = Model(3);
        var expected = single.Evaluate(validation, verbose: 0);
        var models = Enumerable.Range(0, size).Select(_ => Model(3)).ToArray();
        var results = RunRanks(size, (rank, dp) => models[rank].Evaluate(validation, verbose: 0));
        foreach (var (key, want) in expected)
        {
            for (int r = 0; r < size; r++)
                Assert.True(Math.Abs(results[r][key] - want) <= 1e-5 * Math.Abs(want), $"{key} rank {r}: {results[r][key]:R} vs one process {want:R}");
        }
    }

    [Fact]
    public void Evaluate_SourceFailsOnOneRank_EveryRankThrows()
    {
        var (x, y) = DataParallelTests.Data(30);
        var models = new[] { Model(6), Model(6) };
        var sources = new[] { new RecordingDataset(x, y, 8), new RecordingDataset(x, y, 8) { FailAtCall = 2 } };
        var errors = RunRanks(2, (rank, dp) => Record.Exception(() => models[rank].Evaluate(sources[rank], verbose: 0, workers: 0)));
        Assert.Contains("injected read failure", Assert.IsType<DistributedTrainingException>(errors[1]).InnerException!.Message);
        Assert.Contains("Rank 1 failed in an evaluation", Assert.IsType<DistributedTrainingException>(errors[0]).Message);
    }

    /// <summary>Batches of rows of (x, y) that knows each batch's length and records every read; whole batches are counted.</summary>
    private sealed class RecordingDataset(Tensor x, Tensor y, int batchSize) : BatchDataset
    {
        private int _calls;

        public ConcurrentQueue<(int Index, long Start, long Count)> Calls { get; } = new();

        /// <summary>The batch indices in the order asked (sorted by the step they serve).</summary>
        public IEnumerable<int> Order => Calls.Select(c => c.Index);

        public int WholeBatches { get; private set; }

        public int FailAtCall { get; init; } = -1;

        public override int? BatchCount => (int)((x.shape[0] + batchSize - 1) / batchSize);

        public override long? BatchLength(int index) => Math.Min(batchSize, x.shape[0] - (long)index * batchSize);

        public override Batch GetBatch(int index)
        {
            WholeBatches++;
            return GetBatchRows(index, 0, BatchLength(index)!.Value);
        }

        public override Batch GetBatchRows(int index, long start, long count)
        {
            if (Interlocked.Increment(ref _calls) == FailAtCall)
                throw new IOException("injected read failure");
            Calls.Enqueue((index, start, count));
            long first = (long)index * batchSize + start;
            return (x.narrow(0, first, count).clone(), y.narrow(0, first, count).clone());
        }
    }

    /// <summary>A dataset that only makes whole batches (no BatchLength): each rank makes every batch and keeps its rows.</summary>
    private sealed class WholeBatches(Tensor x, Tensor y, int batchSize) : BatchDataset
    {
        public override int? BatchCount => (int)((x.shape[0] + batchSize - 1) / batchSize);

        public override Batch GetBatch(int index)
        {
            long first = (long)index * batchSize;
            long count = Math.Min(batchSize, x.shape[0] - first);
            return (x.narrow(0, first, count).clone(), y.narrow(0, first, count).clone());
        }
    }
}
