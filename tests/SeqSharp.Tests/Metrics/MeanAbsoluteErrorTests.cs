using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class MeanAbsoluteErrorTests
{
    [Fact]
    public void Result_UnevenBatchesWithPerStepWeights_WeightedMeanOverAllSteps()
    {
        var yTrue = Feed.Numbers(30, seed: 9);
        var yPred = Feed.Numbers(30, seed: 10);
        var w = Feed.Numbers(30, seed: 11, 0, 1);
        var metric = new MeanAbsoluteError();
        Feed.InBatches(metric, T(yTrue, 10, 3, 1), T(yPred, 10, 3, 1), T(w, 10, 3));
        var errors = yTrue.Zip(yPred, (t, p) => Math.Abs(t - p)).ToArray();
        Assert.Equal(errors.Zip(w, (e, x) => e * x).Sum() / w.Sum(), metric.Result(), 12);
    }

    [Fact]
    public void Result_KerasDocumentationExample_GivesDocumentedValues()
    {
        var metric = new MeanAbsoluteError();
        metric.UpdateState(T([0, 1, 0, 0], 2, 2), T([1, 1, 0, 0], 2, 2));
        Assert.Equal(0.25, metric.Result(), 12);
        metric.ResetState();
        metric.UpdateState(T([0, 1, 0, 0], 2, 2), T([1, 1, 0, 0], 2, 2), T([1, 0], 2));
        Assert.Equal(0.5, metric.Result(), 12);
    }
}
