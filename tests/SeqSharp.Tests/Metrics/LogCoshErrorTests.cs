using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class LogCoshErrorTests
{
    [Fact]
    public void Result_UnevenBatches_EqualsMeanOverAllValues()
    {
        var yTrue = Feed.Numbers(30, seed: 16, -3, 3);
        var yPred = Feed.Numbers(30, seed: 17, -3, 3);
        var metric = new LogCoshError();
        Feed.InBatches(metric, T(yTrue, 10, 3, 1), T(yPred, 10, 3, 1));
        Assert.Equal(yTrue.Zip(yPred, (t, p) => Math.Log(Math.Cosh(p - t))).Average(), metric.Result(), 12);
    }

    [Fact]
    public void Result_KerasDocumentationExample_GivesDocumentedValues()
    {
        var metric = new LogCoshError();
        metric.UpdateState(T([0, 1, 0, 0], 2, 2), T([1, 1, 0, 0], 2, 2));
        Near(0.10844523, metric.Result(), 1e-7);
        metric.ResetState();
        metric.UpdateState(T([0, 1, 0, 0], 2, 2), T([1, 1, 0, 0], 2, 2), T([1, 0], 2));
        Near(0.21689045, metric.Result(), 1e-7);
    }
}
