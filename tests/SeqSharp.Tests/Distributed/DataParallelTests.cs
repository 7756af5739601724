using SeqSharp.Distributed;
using SeqSharp.Layers;
using SeqSharp.Losses;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;

namespace SeqSharp.Tests.Distributed;

/// <summary>
/// Data-parallel training with ranks as threads of this process (MPI-free; the MPI runs are in
/// <see cref="MpiDataParallelTests"/>): the same global batches as one process, the same bits on every rank.
/// </summary>
public class DataParallelTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(10, 3, new long[] { 0, 4, 4, 3, 7, 3 })]
    [InlineData(2, 3, new long[] { 0, 1, 1, 1, 2, 0 })]
    [InlineData(64, 2, new long[] { 0, 32, 32, 32 })]
    public void Share_SplitsTheGlobalBatchInRankOrder_FirstRanksTakeTheRemainder(long count, int size, long[] expected)
    {
        var ranks = ThreadCommunicator.Group(size);
        for (int r = 0; r < size; r++)
        {
            var dp = new DataParallel(ranks[r]);
            Assert.Equal((expected[2 * r], expected[2 * r + 1]), dp.Share(count));
        }
    }

    [Fact]
    public void Constructor_WithoutLauncher_IsAWorldOfOne_AndFitIsUnchanged()
    {
        Assert.False(MpiCommunicator.Launched(), "the test process was started by an MPI launcher");
        using var dp = new DataParallel();
        Assert.Equal((0, 1, true), (dp.Rank, dp.WorldSize, dp.IsChief));
        Assert.Equal("single process", dp.Communicator.Engine);

        var (x, y) = Data(40);
        var alone = Model(3);
        var lossAlone = alone.Fit(x, y, batchSize: 8, epochs: 2, verbose: 0)["loss"];
        var withDistribution = Model(3);
        List<double> lossWith;
        using (Distribution.Use(dp))
            lossWith = withDistribution.Fit(x, y, batchSize: 8, epochs: 2, verbose: 0)["loss"].ToList();
        Assert.Equal(lossAlone, lossWith);
        TinyModels.AssertSameWeights(alone.GetWeights(), withDistribution.GetWeights());
    }

    [Theory]
    [InlineData(2, 16)]
    [InlineData(3, 10)]   // 10 = 4 + 3 + 3, and the last batch of 6 = 2 + 2 + 2 of 46 training samples
    public void Fit_RanksAsThreads_MatchOneProcessOnTheSameGlobalBatches(int size, int batchSize)
    {
        var (x, y) = Data(58);
        var single = Model(5);
        var expected = single.Fit(x, y, batchSize: batchSize, epochs: 3, verbose: 0, shuffle: false, validationSplit: 0.2);

        var models = Enumerable.Range(0, size).Select(_ => Model(5)).ToArray();
        var histories = RunRanks(size, (rank, dp) => models[rank].Fit(x, y, batchSize: batchSize, epochs: 3, verbose: 0, shuffle: false, validationSplit: 0.2));

        foreach (var key in new[] { "loss", "mae", "val_loss", "val_mae" })
        {
            for (int e = 0; e < 3; e++)
            {
                double want = expected[key][e];
                for (int r = 0; r < size; r++)
                {
                    double got = histories[r][key][e];
                    Assert.True(Math.Abs(got - want) <= 1e-5 * Math.Abs(want), $"{key} epoch {e} rank {r}: {got:R} vs one process {want:R}");
                    Assert.Equal(histories[0][key][e], got);   // every rank reports rank 0's logs
                }
            }
        }
        for (int r = 1; r < size; r++)
            TinyModels.AssertSameWeights(models[0].GetWeights(), models[r].GetWeights());   // bit for bit
        var w0 = models[0].GetWeights();
        var ws = single.GetWeights();
        double worst = 0;
        for (int i = 0; i < ws.Count; i++)
            worst = Math.Max(worst, TensorAssert.Close(ws[i], w0[i], atol: 1e-5, rtol: 1e-4, what: $"weight {i} vs one process"));
        output.WriteLine($"{size} ranks: final loss {histories[0]["loss"][^1]:R} vs one process {expected["loss"][^1]:R}; max weight difference {worst:E2}");
    }

    [Fact]
    public void Fit_OneRankFailsInAStep_EveryRankThrows_AndNoRankTakesThatStep()
    {
        var (x, y) = Data(32);
        var models = new[] { Model(9), Model(9) };
        models[1].Compile(optimizer: "adam", loss: new FailingLoss(failAtCall: 3));
        var before = models.Select(m => m.GetWeights().Select(w => w.clone()).ToList()).ToArray();
        var errors = new Exception?[2];
        RunRanks(2, (rank, dp) =>
        {
            try
            {
                return models[rank].Fit(x, y, batchSize: 8, epochs: 1, verbose: 0, shuffle: false);
            }
            catch (Exception e)
            {
                errors[rank] = e;
                return new History();
            }
        });
        var own = Assert.IsType<DistributedTrainingException>(errors[1]);
        Assert.Contains("Rank 1 failed", own.Message);
        Assert.IsType<InvalidOperationException>(own.InnerException);
        var other = Assert.IsType<DistributedTrainingException>(errors[0]);
        Assert.Contains("other rank(s) failed", other.Message);
        // Two steps were taken (calls 1 and 2), the third was not: both ranks hold the same weights, unlike the start.
        TinyModels.AssertSameWeights(models[0].GetWeights(), models[1].GetWeights());
        Assert.NotEqual(before[0][0].data<float>().ToArray(), models[0].GetWeights()[0].data<float>().ToArray());
    }

    [Fact]
    public void Constructor_BadArguments_SayWhatWasExpected()
    {
        var one = new LocalCommunicator();
        Assert.Contains("at least 1024 bytes", Assert.Throws<ArgumentOutOfRangeException>(() => new DataParallel(one, bucketBytes: 10)).Message);
        Assert.Contains("positive timeout", Assert.Throws<ArgumentOutOfRangeException>(() => new DataParallel(one, collectiveTimeout: TimeSpan.Zero)).Message);
    }

    [Fact]
    public void SmallBuckets_GiveTheSameStep_InMoreCalls()
    {
        var (x, y) = Data(24);
        var big = new[] { Model(4), Model(4) };
        var small = new[] { Model(4), Model(4) };
        var bigDp = RunRanks(2, (r, dp) => big[r].Fit(x, y, batchSize: 12, epochs: 1, verbose: 0, shuffle: false), 16 << 20);
        long[] calls = new long[2];
        RunRanks(2, (r, dp) => { var h = small[r].Fit(x, y, batchSize: 12, epochs: 1, verbose: 0, shuffle: false); calls[r] = dp.GradientCalls; return h; }, 1024);
        TinyModels.AssertSameWeights(big[0].GetWeights(), small[0].GetWeights());
        // LSTM(4) on 2 features + Dense(1): 4·16 + 4·4·4... = 165 floats = 660 bytes: one 1 KiB bucket per step, 2 steps.
        long parameters = small[0].GetWeights().Sum(w => w.numel());
        long perStep = (parameters * 4 + 1023) / 1024;
        Assert.Equal(2 * perStep, calls[0]);
    }

    [Fact]
    public void OverlapGradients_SameStepBitForBit_BucketsStartDuringBackward()
    {
        // LSTM(8, sequences) -> LSTM(8) -> Dense(1): 352 + 544 + 9 = 905 floats in buckets of 256 (1 KiB), last layer first:
        // [Dense + 2nd LSTM | 2nd LSTM | 2nd + 1st | 1st]. The first two hold only layers 1 and 2, so they start when backward
        // reaches the 2nd LSTM's input; the other two after backward.
        var (x, y) = Data(30);
        Sequential Deep(int seed)
        {
            Utils.SetRandomSeed(seed);
            var model = new Sequential([new LSTM(8, returnSequences: true, inputShape: [6, 2]), new LSTM(8), new Dense(1)]);
            model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae"]);
            return model;
        }
        var plain = new[] { Deep(3), Deep(3) };
        var overlapped = new[] { Deep(3), Deep(3) };
        var plainLoss = RunRanks(2, (r, dp) => plain[r].Fit(x, y, batchSize: 10, epochs: 2, verbose: 0, shuffle: false), 1024);
        var counts = RunRanks(2, (r, dp) =>
        {
            var history = overlapped[r].Fit(x, y, batchSize: 10, epochs: 2, verbose: 0, shuffle: false);
            return (history, dp.GradientCalls, dp.OverlappedCalls);
        }, 1024, overlap: true);
        TinyModels.AssertSameWeights(plain[0].GetWeights(), overlapped[0].GetWeights());
        TinyModels.AssertSameWeights(overlapped[0].GetWeights(), overlapped[1].GetWeights());
        Assert.Equal(plainLoss[0]["loss"], counts[0].history["loss"]);
        Assert.Equal(6 * 4, counts[0].GradientCalls);   // 3 steps an epoch, 2 epochs
        Assert.Equal(6 * 2, counts[0].OverlappedCalls);
        output.WriteLine($"{counts[0].GradientCalls} gradient buckets, {counts[0].OverlappedCalls} started during backward");
    }

    /// <summary>Runs <paramref name="fit"/> on <paramref name="size"/> ranks, one thread each, and returns each rank's result.</summary>
    internal static T[] RunRanks<T>(int size, Func<int, DataParallel, T> fit, int bucketBytes = 16 << 20, bool overlap = false)
    {
        var group = ThreadCommunicator.Group(size);
        var histories = new T[size];
        var errors = new Exception?[size];
        var threads = Enumerable.Range(0, size).Select(r => new Thread(() =>
        {
            try
            {
                var dp = new DataParallel(group[r], bucketBytes) { OverlapGradients = overlap };
                using (Distribution.Use(dp))
                    histories[r] = fit(r, dp);
            }
            catch (Exception e)
            {
                errors[r] = e;
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(120)), "a rank hung"));
        foreach (var e in errors)
        {
            if (e is not null)
                throw new InvalidOperationException("A rank failed.", e);
        }
        return histories;
    }

    internal static (Tensor X, Tensor Y) Data(int samples)
    {
        var g = new TorchSharp.torch.Generator(1234);
        var x = randn([samples, 6, 2], generator: g);
        var y = x.sum([1, 2]).unsqueeze(1) * 0.2f + 0.1f;
        return (x, y);
    }

    internal static Sequential Model(int seed)
    {
        Utils.SetRandomSeed(seed);
        var model = new Sequential([new LSTM(4, inputShape: [6, 2]), new Dense(1)]);
        model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae"]);
        return model;
    }

    /// <summary>Mean squared error that throws on its n-th call (a failure inside one rank's training step).</summary>
    private sealed class FailingLoss(int failAtCall) : Loss("mean_squared_error", "sum_over_batch_size")
    {
        private int _calls;

        public override Tensor Compute(Tensor yTrue, Tensor yPred)
        {
            if (++_calls == failAtCall)
                throw new InvalidOperationException("injected failure");
            return (yPred - yTrue).square().mean([-1L]);
        }
    }
}
