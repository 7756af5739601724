using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class BinaryCrossentropyTests
{
    [Theory]
    [InlineData(false, 0.0)]
    [InlineData(true, 0.1)]
    public void Result_UnevenBatchesOfSequences_MeanOverAllSteps(bool fromLogits, double smoothing)
    {
        var labels = Feed.Numbers(30, seed: 39, 0, 1).Select(v => v < 0.5 ? 0.0 : 1.0).ToArray();
        var preds = fromLogits ? Feed.Numbers(30, seed: 40, -4, 4) : Feed.Numbers(30, seed: 40, 0, 1);
        var metric = new BinaryCrossentropy(fromLogits, smoothing);
        Feed.InBatches(metric, T(labels, 10, 3, 1), T(preds, 10, 3, 1));
        double expected = labels.Zip(preds, (y, x) =>
        {
            double s = y * (1 - smoothing) + 0.5 * smoothing;
            return fromLogits ? Softplus(x) - s * x : -(s * Math.Log(Clip(x)) + (1 - s) * Math.Log(1 - Clip(x)));
        }).Average();
        Assert.Equal(expected, metric.Result(), 12);
    }
}
