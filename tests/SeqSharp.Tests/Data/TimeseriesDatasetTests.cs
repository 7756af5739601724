using SeqSharp.Data;

using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Data;

[Collection(SeededCollection.Name)]   // one test seeds the global generator
public class TimeseriesDatasetTests
{
    private static long[] Longs(Tensor t) => t.to_type(ScalarType.Int64).data<long>().ToArray();

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static long[] Range(long start, int count, long step) => Enumerable.Range(0, count).Select(i => start + i * step).ToArray();

    [Fact]
    public void Windows_KerasDocumentationExample1_StrideAndSamplingRate()
    {
        // Keras: indices 0..98, sequence_length=10, sampling_rate=2, sequence_stride=3 gives
        // [0 2 ... 18], [3 5 ... 21], [6 8 ... 24], ..., last [78 80 ... 96].
        using var windows = Utils.TimeseriesDataset(arange(99L), null, sequenceLength: 10, sequenceStride: 3, samplingRate: 2);
        Assert.Equal(27, windows.Count);
        Assert.False(windows.HasTargets);
        var (x, y) = windows.ToTensors();
        Assert.Null(y);
        Assert.Equal(new long[] { 27, 10 }, x.shape);
        Assert.Equal(Range(0, 10, 2), Longs(x[0]));
        Assert.Equal(Range(3, 10, 2), Longs(x[1]));
        Assert.Equal(Range(6, 10, 2), Longs(x[2]));
        Assert.Equal(Range(78, 10, 2), Longs(x[26]));
        Assert.Equal(Range(0, 27, 3), windows.WindowStarts.ToArray());
    }

    [Fact]
    public void Windows_KerasDocumentationExample2_TargetOfTheWindowStartingAtEachStep()
    {
        // Keras: input_data = data[:-10], targets = data[10:], sequence_length=10 -> [0..9] with target 10, ...
        var data = arange(20L);
        using var windows = Utils.TimeseriesDataset(data[..^10], data[10..], sequenceLength: 10);
        var (x, y) = windows.ToTensors();
        Assert.Equal(1, windows.Count);
        Assert.Equal(Range(0, 10, 1), Longs(x[0]));
        Assert.Equal(new long[] { 10 }, Longs(y!));
    }

    [Fact]
    public void Windows_StartAndEndIndex_WindowsFitInsideAndTargetsAreAbsolute()
    {
        // data[t] = (t, 100 + t), targets[t] = 10 t. Steps 3..14 used (end 15 exclusive); windows of
        // 4 samples 2 apart span 7 steps, so they start at 3, 5, 7 (a start at 9 would need step 15).
        var t = arange(20L, ScalarType.Float32);
        var data = stack([t, t + 100], dim: 1);
        using var windows = Utils.TimeseriesDataset(data, t * 10, sequenceLength: 4, sequenceStride: 2, samplingRate: 2, startIndex: 3, endIndex: 15);
        var (x, y) = windows.ToTensors();
        Assert.Equal(new long[] { 3, 4, 2 }, x.shape);
        Assert.Equal(new long[] { 3, 5, 7, 9 }, Longs(x[0, .., 0]));
        Assert.Equal(new long[] { 7, 9, 11, 13 }, Longs(x[2, .., 0]));
        Assert.Equal(new long[] { 105, 107, 109, 111 }, Longs(x[1, .., 1]));
        Assert.Equal(new long[] { 30, 50, 70 }, Longs(y!));
        Assert.Equal(new long[] { 3, 5, 7 }, windows.WindowStarts.ToArray());
    }

    [Fact]
    public void Windows_DocsAirlineExample_EndIndexKeepsTargetsBeforeTheTestPeriod()
    {
        // docs/data.md: 144 months, window i = months i .. i + 11 with target month i + 12;
        // endIndex 119 gives 108 windows whose targets all lie before month 120.
        var series = arange(144L, ScalarType.Float32).unsqueeze(1);
        var (x, y) = Utils.TimeseriesDataset(series, series[12..], sequenceLength: 12, endIndex: 119).ToTensors();
        Assert.Equal(new long[] { 108, 12, 1 }, x.shape);
        Assert.Equal(new long[] { 108, 1 }, y!.shape);
        Assert.Equal(119, y[^1, 0].item<float>());
        Assert.Equal(Range(107, 12, 1), Longs(x[^1, .., 0]));
    }

    [Fact]
    public void Windows_ShorterTargets_LimitTheNumberOfWindows()
    {
        using var windows = Utils.TimeseriesDataset(arange(10L), arange(5L), sequenceLength: 2);
        Assert.Equal(5, windows.Count);   // min(10 - 1, 5), as Keras
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, Longs(windows.ToTensors().Y!));
    }

    [Fact]
    public void Enumerate_Batches_LastPartialAndConcatenationEqualsToTensors()
    {
        var series = arange(10L, ScalarType.Float32).unsqueeze(1);   // (10, 1)
        using var windows = Utils.TimeseriesDataset(series, series.squeeze(1) * 2, sequenceLength: 3, batchSize: 3);
        var batches = windows.ToList();
        Assert.Equal(new[] { 3L, 3, 2 }, batches.Select(b => b.X.shape[0]));
        Assert.All(batches, b => Assert.Equal(new long[] { 3, 1 }, b.X.shape[1..]));
        var (x, y) = windows.ToTensors();
        Assert.True(Same(cat(batches.Select(b => b.X).ToArray(), 0), x));
        Assert.True(Same(cat(batches.Select(b => b.Y!).ToArray(), 0), y!));
        Assert.Equal(new long[] { 7, 8, 9 }, Longs(batches[2].X[1]));
        Assert.Equal(new long[] { 12, 14 }, Longs(batches[2].Y!));   // windows starting at 6 and 7
    }

    [Fact]
    public void GetBatchRows_GathersOnlyThoseWindowsOfTheBatch()
    {
        // Shuffled windows: batch 1 holds windows 3..5 of the yield order, whose starts WindowStarts gives.
        var series = arange(20L, ScalarType.Float32).unsqueeze(1);   // step t holds the value t
        using var windows = Utils.TimeseriesDataset(series, series.squeeze(1) * 2, sequenceLength: 4, batchSize: 3, shuffle: true, seed: 5);
        Assert.Equal(17, windows.Count);
        Assert.Equal(3L, windows.BatchLength(1));
        Assert.Equal(2L, windows.BatchLength(5));   // 17 = 5 · 3 + 2
        var rows = windows.GetBatchRows(1, 1, 2);   // windows 4 and 5 of the order
        for (int i = 0; i < 2; i++)
        {
            long start = windows.WindowStarts[4 + i];
            Assert.Equal(new long[] { start, start + 1, start + 2, start + 3 }, Longs(rows.X[i]));
            Assert.Equal(2 * start, rows.Y![i].item<float>());
        }
        Assert.Equal(new long[] { 0, 4, 1 }, windows.GetBatchRows(5, 2, 0).X.shape);
        Assert.Throws<ArgumentOutOfRangeException>(() => windows.GetBatchRows(5, 1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => windows.GetBatchRows(6, 0, 1));
        using var single = Utils.TimeseriesDataset(series, null, sequenceLength: 4, batchSize: null);
        Assert.Null(single.BatchLength(0));
        Assert.Contains("batchSize: null", Assert.Throws<InvalidOperationException>(() => single.GetBatchRows(0, 0, 1)).Message);
    }

    [Fact]
    public void Enumerate_NoBatchSize_YieldsSingleWindowsWithoutBatchAxis()
    {
        using var windows = Utils.TimeseriesDataset(arange(5L), arange(5L), sequenceLength: 2, batchSize: null);
        var items = windows.ToList();
        Assert.Equal(4, items.Count);
        Assert.Equal(new long[] { 2 }, items[1].X.shape);
        Assert.Equal(new long[] { 1, 2 }, Longs(items[1].X));
        Assert.Equal(1, items[1].Y!.item<long>());
    }

    [Fact]
    public void Shuffle_WithSeed_IsADeterministicPermutationKeepingPairs()
    {
        var series = arange(60L);
        using var a = Utils.TimeseriesDataset(series, series * 10, sequenceLength: 5, shuffle: true, seed: 3);
        using var b = Utils.TimeseriesDataset(series, series * 10, sequenceLength: 5, shuffle: true, seed: 3);
        using var c = Utils.TimeseriesDataset(series, series * 10, sequenceLength: 5, shuffle: true, seed: 4);
        Assert.Equal(a.WindowStarts, b.WindowStarts);
        Assert.NotEqual(a.WindowStarts, c.WindowStarts);
        Assert.NotEqual(Range(0, 56, 1), a.WindowStarts.ToArray());
        Assert.Equal(Range(0, 56, 1), a.WindowStarts.Order().ToArray());
        var (x, y) = a.ToTensors();
        for (int i = 0; i < 56; i++)
        {
            long start = a.WindowStarts[i];
            Assert.Equal(Range(start, 5, 1), Longs(x[i]));
            Assert.Equal(start * 10, y![i].item<long>());
        }
        Assert.True(Same(cat(a.Select(batch => batch.X).ToArray(), 0), x));
    }

    [Fact]
    public void Shuffle_WithoutSeed_FollowsSetRandomSeed()
    {
        Utils.SetRandomSeed(5);
        using var a = Utils.TimeseriesDataset(arange(40L), null, sequenceLength: 3, shuffle: true);
        Utils.SetRandomSeed(5);
        using var b = Utils.TimeseriesDataset(arange(40L), null, sequenceLength: 3, shuffle: true);
        Assert.Equal(a.WindowStarts, b.WindowStarts);
    }

    [Fact]
    public void Arrays_BecomeFloat32WithTheSameWindows()
    {
        double[] series = [0, 1, 2, 3, 4, 5];
        float[,] table = { { 0, 10 }, { 1, 11 }, { 2, 12 }, { 3, 13 }, { 4, 14 }, { 5, 15 } };
        var (x, y) = Utils.TimeseriesDataset(series[..^2], series[2..], sequenceLength: 2).ToTensors();
        Assert.Equal(ScalarType.Float32, x.dtype);
        Assert.Equal(new float[] { 0, 1, 1, 2, 2, 3 }, x.data<float>().ToArray());
        Assert.Equal(new float[] { 2, 3, 4 }, y!.data<float>().ToArray());
        var (x2, _) = Utils.TimeseriesDataset(table, null, sequenceLength: 3, sequenceStride: 2).ToTensors();
        Assert.Equal(new long[] { 2, 3, 2 }, x2.shape);
        Assert.Equal(new float[] { 12, 13, 14 }, x2[1, .., 1].data<float>().ToArray());
    }

    [Fact]
    public void Windows_FeedFit()
    {
        var series = sin(arange(80, ScalarType.Float32) * 0.3f).unsqueeze(1);
        var (x, y) = Utils.TimeseriesDataset(series[..^1], series[1..], sequenceLength: 8).ToTensors();
        var model = new Sequential();
        model.Add(new SeqSharp.Layers.LSTM(4, inputShape: [8, 1]));
        model.Add(new SeqSharp.Layers.Dense(1));
        model.Compile(optimizer: "adam", loss: "mse");
        var history = model.Fit(x, y!, epochs: 1, verbose: 0);
        Assert.Equal(new long[] { 72, 8, 1 }, x.shape);
        Assert.Equal(new long[] { 72, 1 }, y!.shape);
        Assert.True(double.IsFinite(history["loss"][0]));
    }

    [Fact]
    public void InvalidArguments_SayWhatWasReceived()
    {
        var data = arange(10L);
        Assert.Contains("endIndex=10", Assert.Throws<ArgumentException>(() => Utils.TimeseriesDataset(data, null, 2, endIndex: 10)).Message);
        Assert.Contains("startIndex=-1", Assert.Throws<ArgumentException>(() => Utils.TimeseriesDataset(data, null, 2, startIndex: -1)).Message);
        Assert.Contains("startIndex=10", Assert.Throws<ArgumentException>(() => Utils.TimeseriesDataset(data, null, 2, startIndex: 10)).Message);
        Assert.Contains("endIndex=4", Assert.Throws<ArgumentException>(() => Utils.TimeseriesDataset(data, null, 2, startIndex: 5, endIndex: 4)).Message);
        Assert.Contains("samplingRate=0", Assert.Throws<ArgumentOutOfRangeException>(() => Utils.TimeseriesDataset(data, null, 2, samplingRate: 0)).Message);
        Assert.Contains("sequenceStride=10", Assert.Throws<ArgumentOutOfRangeException>(() => Utils.TimeseriesDataset(data, null, 2, sequenceStride: 10)).Message);
        Assert.Contains("sequenceLength=0", Assert.Throws<ArgumentOutOfRangeException>(() => Utils.TimeseriesDataset(data, null, 0)).Message);
        Assert.Contains("batchSize=0", Assert.Throws<ArgumentOutOfRangeException>(() => Utils.TimeseriesDataset(data, null, 2, batchSize: 0)).Message);
        // Windows start at 4..8 but targets has 5 entries: targets[8] does not exist.
        Assert.Contains("targets[8]", Assert.Throws<ArgumentException>(() => Utils.TimeseriesDataset(data, arange(5L), 2, startIndex: 4)).Message);
        Assert.Throws<ArgumentException>(() => Utils.TimeseriesDataset(new double[5], new decimal[5], 2));
    }

    [Fact]
    public void Windows_LongerThanTheData_GiveAnEmptyDataset()
    {
        using var windows = Utils.TimeseriesDataset(arange(5L, ScalarType.Float32).unsqueeze(1), null, sequenceLength: 6);
        Assert.Equal(0, windows.Count);
        Assert.Empty(windows);
        Assert.Equal(new long[] { 0, 6, 1 }, windows.ToTensors().X.shape);
    }
}
