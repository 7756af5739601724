using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class MeanSquaredLogarithmicErrorTests
{
    [Fact]
    public void Result_UnevenBatches_EqualsMeanOverAllValues()
    {
        var yTrue = Feed.Numbers(20, seed: 14, 0, 4);
        var yPred = Feed.Numbers(20, seed: 15, -0.5, 4);
        var metric = new MeanSquaredLogarithmicError();
        Feed.InBatches(metric, T(yTrue, 10, 2), T(yPred, 10, 2));
        double L(double x) => Math.Log(Math.Max(x, 1e-7) + 1);
        Assert.Equal(yTrue.Zip(yPred, (t, p) => Math.Pow(L(p) - L(t), 2)).Average(), metric.Result(), 12);
    }

    [Fact]
    public void Result_KerasDocumentationExample_GivesDocumentedValues()
    {
        var metric = new MeanSquaredLogarithmicError();
        metric.UpdateState(T([0, 1, 0, 0], 2, 2), T([1, 1, 0, 0], 2, 2));
        Near(0.12011322, metric.Result(), 1e-7);
        metric.ResetState();
        metric.UpdateState(T([0, 1, 0, 0], 2, 2), T([1, 1, 0, 0], 2, 2), T([1, 0], 2));
        Near(0.24022643, metric.Result(), 1e-7);
    }
}
