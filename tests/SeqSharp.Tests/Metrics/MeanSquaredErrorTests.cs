using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class MeanSquaredErrorTests
{
    [Fact]
    public void Result_UnevenBatchesOfSequences_EqualsMeanOverAllValues()
    {
        var yTrue = Feed.Numbers(30, seed: 4);
        var yPred = Feed.Numbers(30, seed: 5);
        var metric = new MeanSquaredError();
        Feed.InBatches(metric, T(yTrue, 10, 3, 1), T(yPred, 10, 3, 1));
        var squares = yTrue.Zip(yPred, (t, p) => (t - p) * (t - p)).ToArray();
        Assert.Equal(squares.Average(), metric.Result(), 12);
        Assert.NotEqual(Feed.MeanOfBatchMeans(RowMeans(squares, 3)), metric.Result(), 6);
    }

    [Fact]
    public void Result_PerSampleWeights_WeightedMeanOverAllSamples()
    {
        var yTrue = Feed.Numbers(20, seed: 6);
        var yPred = Feed.Numbers(20, seed: 7);
        var w = Feed.Numbers(10, seed: 8, 0, 2);
        var metric = new MeanSquaredError();
        Feed.InBatches(metric, T(yTrue, 10, 2), T(yPred, 10, 2), T(w, 10));
        var perSample = RowMeans(yTrue.Zip(yPred, (t, p) => (t - p) * (t - p)).ToArray(), 2);
        Assert.Equal(perSample.Zip(w, (v, x) => v * x).Sum() / w.Sum(), metric.Result(), 12);
    }

    [Fact]
    public void Result_KerasDocumentationExample_IsQuarter()
    {
        var metric = new MeanSquaredError();
        metric.UpdateState(T([0, 1, 0, 0], 2, 2), T([1, 1, 0, 0], 2, 2));
        Assert.Equal(0.25, metric.Result(), 12);
    }

    [Fact]
    public void UpdateState_MismatchedShapes_ThrowsNamingTheMetric()
    {
        var ex = Assert.Throws<ArgumentException>(() => new MeanSquaredError("mse").UpdateState(zeros(4, 3), zeros(4, 2)));
        Assert.Contains("Metric 'mse'", ex.Message);
        Assert.Contains("y_pred.shape=[4, 2]", ex.Message);
    }
}
