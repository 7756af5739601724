using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class RootMeanSquaredErrorTests
{
    [Fact]
    public void Result_UnevenBatches_IsRootOfEpochMeanNotMeanOfBatchRoots()
    {
        var yTrue = Feed.Numbers(30, seed: 18);
        var yPred = Feed.Numbers(30, seed: 19);
        var metric = new RootMeanSquaredError();
        Feed.InBatches(metric, T(yTrue, 10, 3, 1), T(yPred, 10, 3, 1));
        var squares = yTrue.Zip(yPred, (t, p) => (t - p) * (t - p)).ToArray();
        Assert.Equal(Math.Sqrt(squares.Average()), metric.Result(), 12);
        double meanOfBatchRoots = new[] { (0, 4), (4, 3), (7, 2), (9, 1) }
            .Select(b => Math.Sqrt(squares.Skip(3 * b.Item1).Take(3 * b.Item2).Average())).Average();
        Assert.NotEqual(meanOfBatchRoots, metric.Result(), 6);
    }

    [Fact]
    public void Result_KerasDocumentationExample_GivesDocumentedValues()
    {
        var metric = new RootMeanSquaredError();
        metric.UpdateState(T([0, 1, 0, 0], 2, 2), T([1, 1, 0, 0], 2, 2));
        Assert.Equal(0.5, metric.Result(), 12);
        metric.ResetState();
        metric.UpdateState(T([0, 1, 0, 0], 2, 2), T([1, 1, 0, 0], 2, 2), T([1, 0], 2));
        Assert.Equal(Math.Sqrt(0.5), metric.Result(), 12);
    }
}
