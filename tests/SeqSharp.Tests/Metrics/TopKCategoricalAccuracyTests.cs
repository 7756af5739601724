using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class TopKCategoricalAccuracyTests
{
    [Fact]
    public void Result_KerasDocumentationExample_GivesDocumentedValues()
    {
        var metric = new TopKCategoricalAccuracy(k: 1);
        metric.UpdateState(T([0, 0, 1, 0, 1, 0], 2, 3), T([0.1, 0.9, 0.8, 0.05, 0.95, 0], 2, 3));
        Assert.Equal(0.5, metric.Result(), 12);
        metric.ResetState();
        metric.UpdateState(T([0, 0, 1, 0, 1, 0], 2, 3), T([0.1, 0.9, 0.8, 0.05, 0.95, 0], 2, 3), T([0.7, 0.3], 2));
        Assert.Equal(0.3, metric.Result(), 12);
    }

    [Fact]
    public void Result_KTwoOverUnevenBatches_CountsTrueClassAmongTwoLargest()
    {
        var classes = Feed.Numbers(10, seed: 37, 0, 5).Select(v => (int)v).ToArray();
        var scores = Feed.Numbers(50, seed: 38);
        var oneHot = classes.SelectMany(c => Enumerable.Range(0, 5).Select(k => k == c ? 1.0 : 0.0)).ToArray();
        var metric = new TopKCategoricalAccuracy(k: 2);
        Feed.InBatches(metric, T(oneHot, 10, 5), T(scores, 10, 5));
        double expected = classes.Select((c, i) =>
        {
            var row = scores.Skip(5 * i).Take(5).OrderByDescending(v => v).ToArray();
            return scores[5 * i + c] >= row[1] ? 1.0 : 0.0;
        }).Average();
        Assert.Equal(expected, metric.Result(), 12);
    }

    [Fact]
    public void Result_TieWithKthLargest_CountsAsIn()
    {
        var metric = new TopKCategoricalAccuracy(k: 1);
        metric.UpdateState(T([0, 1, 0], 1, 3), T([0.4, 0.4, 0.2], 1, 3));
        Assert.Equal(1.0, metric.Result());
    }
}
