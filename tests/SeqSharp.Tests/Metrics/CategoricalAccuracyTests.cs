using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class CategoricalAccuracyTests
{
    [Fact]
    public void Result_KerasDocumentationExample_GivesDocumentedValues()
    {
        var metric = new CategoricalAccuracy();
        metric.UpdateState(T([0, 0, 1, 0, 1, 0], 2, 3), T([0.1, 0.9, 0.8, 0.05, 0.95, 0], 2, 3));
        Assert.Equal(0.5, metric.Result(), 12);
        metric.ResetState();
        metric.UpdateState(T([0, 0, 1, 0, 1, 0], 2, 3), T([0.1, 0.9, 0.8, 0.05, 0.95, 0], 2, 3), T([0.7, 0.3], 2));
        Assert.Equal(0.3, metric.Result(), 12);
    }

    [Fact]
    public void Result_UnevenBatchesOfSequences_FractionOfAllStepsRight()
    {
        // (10 samples, 2 steps, 3 classes)
        var classes = Feed.Numbers(20, seed: 33, 0, 3).Select(v => (int)v).ToArray();
        var scores = Feed.Numbers(60, seed: 34);
        var oneHot = classes.SelectMany(c => Enumerable.Range(0, 3).Select(k => k == c ? 1.0 : 0.0)).ToArray();
        var metric = new CategoricalAccuracy();
        Feed.InBatches(metric, T(oneHot, 10, 2, 3), T(scores, 10, 2, 3));
        double expected = classes.Select((c, i) =>
        {
            var row = scores.Skip(3 * i).Take(3).ToArray();
            return Array.IndexOf(row, row.Max()) == c ? 1.0 : 0.0;
        }).Average();
        Assert.Equal(expected, metric.Result(), 12);
    }

    [Fact]
    public void UpdateState_IntegerLabels_ThrowsPointingToSparseAccuracy()
    {
        var ex = Assert.Throws<ArgumentException>(() => new CategoricalAccuracy().UpdateState(T([0, 2], 2), T([0.1, 0.2, 0.7, 0.5, 0.2, 0.3], 2, 3)));
        Assert.Contains("SparseCategoricalAccuracy", ex.Message);
    }
}
