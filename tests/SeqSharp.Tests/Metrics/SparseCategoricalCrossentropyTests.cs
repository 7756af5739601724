using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class SparseCategoricalCrossentropyTests
{
    private static double CrossentropyOf(double[] probabilities, int row, int label, int classes)
    {
        var p = probabilities.Skip(classes * row).Take(classes).ToArray();
        return -Math.Log(Clip(p[label] / p.Sum()));
    }

    [Fact]
    public void Result_UnevenBatchesOfSequences_MeanOverAllSteps()
    {
        var labels = Feed.Numbers(20, seed: 44, 0, 3).Select(v => (int)v).ToArray();
        var probabilities = Feed.Numbers(60, seed: 45, 0.01, 1);
        var metric = new SparseCategoricalCrossentropy();
        Feed.InBatches(metric, T(labels.Select(l => (double)l).ToArray(), 10, 2), T(probabilities, 10, 2, 3));
        Assert.Equal(labels.Select((l, i) => CrossentropyOf(probabilities, i, l, 3)).Average(), metric.Result(), 12);
    }

    [Fact]
    public void Result_IgnoreClass_AveragesOnlyTheOtherLabels()
    {
        var labels = Feed.Numbers(20, seed: 46, 0, 3).Select(v => (int)v).ToArray();
        var probabilities = Feed.Numbers(60, seed: 47, 0.01, 1);
        var metric = new SparseCategoricalCrossentropy(ignoreClass: 0);
        Feed.InBatches(metric, T(labels.Select(l => (double)l).ToArray(), 10, 2), T(probabilities, 10, 2, 3));
        var kept = labels.Select((l, i) => (l, i)).Where(x => x.l != 0).Select(x => CrossentropyOf(probabilities, x.i, x.l, 3)).ToArray();
        Assert.True(kept.Length is > 0 and < 20);
        Assert.Equal(kept.Average(), metric.Result(), 12);
    }
}
