using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class SparseCategoricalAccuracyTests
{
    [Fact]
    public void Result_KerasDocumentationExample_GivesDocumentedValues()
    {
        var metric = new SparseCategoricalAccuracy();
        metric.UpdateState(T([2, 1], 2, 1), T([0.1, 0.6, 0.3, 0.05, 0.95, 0], 2, 3));
        Assert.Equal(0.5, metric.Result(), 12);
        metric.ResetState();
        metric.UpdateState(T([2, 1], 2, 1), T([0.1, 0.6, 0.3, 0.05, 0.95, 0], 2, 3), T([0.7, 0.3], 2));
        Assert.Equal(0.3, metric.Result(), 12);
    }

    [Fact]
    public void Result_LabelsOfEveryAcceptedShape_FractionRightOverUnevenBatches()
    {
        var labels = Feed.Numbers(20, seed: 35, 0, 4).Select(v => Math.Floor(v)).ToArray();
        var scores = Feed.Numbers(80, seed: 36);
        double expected = labels.Select((c, i) =>
        {
            var row = scores.Skip(4 * i).Take(4).ToArray();
            return Array.IndexOf(row, row.Max()) == c ? 1.0 : 0.0;
        }).Average();
        foreach (var yTrue in new[] { T(labels, 10, 2), T(labels, 10, 2, 1), T(labels, 10, 2).to_type(ScalarType.Int64) })
        {
            var metric = new SparseCategoricalAccuracy();
            Feed.InBatches(metric, yTrue, T(scores, 10, 2, 4));
            Assert.Equal(expected, metric.Result(), 12);
        }
        var flat = new SparseCategoricalAccuracy();
        Feed.InBatches(flat, T(labels, 20), T(scores, 20, 4), sizes: [7, 7, 6]);
        Assert.Equal(expected, flat.Result(), 12);
    }

    [Fact]
    public void UpdateState_OneHotLabels_ThrowsPointingToCategoricalAccuracy()
    {
        var ex = Assert.Throws<ArgumentException>(() => new SparseCategoricalAccuracy().UpdateState(T([0, 1, 0, 1, 0, 0], 2, 3), T([0.1, 0.6, 0.3, 0.05, 0.95, 0], 2, 3)));
        Assert.Contains("CategoricalAccuracy", ex.Message);
        Assert.Contains("y_true.shape=[2, 3]", ex.Message);
    }
}
