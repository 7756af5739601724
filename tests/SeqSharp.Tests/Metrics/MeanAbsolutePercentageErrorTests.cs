using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class MeanAbsolutePercentageErrorTests
{
    [Fact]
    public void Result_UnevenBatches_EqualsMeanOverAllValues()
    {
        var yTrue = Feed.Numbers(10, seed: 12, 0.5, 3);
        var yPred = Feed.Numbers(10, seed: 13, 0.5, 3);
        var metric = new MeanAbsolutePercentageError();
        Feed.InBatches(metric, T(yTrue, 10, 1), T(yPred, 10, 1));
        Assert.Equal(yTrue.Zip(yPred, (t, p) => 100 * Math.Abs(t - p) / t).Average(), metric.Result(), 10);
    }

    [Fact]
    public void Result_KerasDocumentationExample_GivesDocumentedValues()
    {
        // Zero targets divide by epsilon = 1e-7, hence the huge documented values.
        var metric = new MeanAbsolutePercentageError();
        metric.UpdateState(T([0, 1, 0, 0], 2, 2), T([1, 1, 0, 0], 2, 2));
        Assert.Equal(250000000.0, metric.Result(), 4);
        metric.ResetState();
        metric.UpdateState(T([0, 1, 0, 0], 2, 2), T([1, 1, 0, 0], 2, 2), T([1, 0], 2));
        Assert.Equal(500000000.0, metric.Result(), 4);
    }
}
