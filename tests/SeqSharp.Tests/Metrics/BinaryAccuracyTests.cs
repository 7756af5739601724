using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class BinaryAccuracyTests
{
    [Fact]
    public void Result_KerasDocumentationExample_GivesDocumentedValues()
    {
        var metric = new BinaryAccuracy();
        metric.UpdateState(T([1, 1, 0, 0], 4, 1), T([0.98, 1, 0, 0.6], 4, 1));
        Assert.Equal(0.75, metric.Result(), 12);
        metric.ResetState();
        metric.UpdateState(T([1, 1, 0, 0], 4, 1), T([0.98, 1, 0, 0.6], 4, 1), T([1, 0, 0, 1], 4));
        Assert.Equal(0.5, metric.Result(), 12);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.3)]
    public void Result_UnevenBatchesOfSequences_FractionOfAllStepsRight(double threshold)
    {
        var labels = Feed.Numbers(30, seed: 31, 0, 1).Select(v => v < 0.5 ? 0.0 : 1.0).ToArray();
        var probabilities = Feed.Numbers(30, seed: 32, 0, 1);
        var metric = new BinaryAccuracy(threshold);
        Feed.InBatches(metric, T(labels, 10, 3, 1), F32(probabilities, 10, 3, 1));
        double expected = labels.Zip(probabilities, (y, p) => (p > threshold ? 1.0 : 0.0) == y ? 1.0 : 0.0).Average();
        Assert.Equal(expected, metric.Result(), 12);
    }

    [Fact]
    public void Result_PredictionEqualToThreshold_CountsAsZero()
    {
        var metric = new BinaryAccuracy();
        metric.UpdateState(T([0, 1], 2, 1), T([0.5, 0.5], 2, 1));
        Assert.Equal(0.5, metric.Result(), 12);
    }

    [Fact]
    public void Ctor_ThresholdOutsideOpenUnitInterval_Throws()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new BinaryAccuracy(1.0));
        Assert.Contains("threshold=1", ex.Message);
    }
}
