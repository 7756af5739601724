using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class AutoAccuracyTests
{
    [Fact]
    public void UpdateState_PredictionsWithOneUnit_ResolvesToBinaryAccuracy()
    {
        var metric = Metric.Get("accuracy");
        metric.UpdateState(T([1, 1, 0, 0], 4, 1), T([0.98, 1, 0, 0.6], 4, 1));
        var resolved = Assert.IsType<BinaryAccuracy>(((AutoAccuracy)metric).Resolved);
        Assert.Equal("accuracy", resolved.Name);
        Assert.Equal("accuracy", metric.Name);
        Assert.Equal(0.75, metric.Result(), 12);
    }

    [Fact]
    public void UpdateState_IntegerLabels_ResolvesToSparseCategoricalAccuracy()
    {
        foreach (var yTrue in new[] { T([2, 1], 2), T([2, 1], 2, 1) })
        {
            var metric = new AutoAccuracy("acc");
            metric.UpdateState(yTrue, T([0.1, 0.6, 0.3, 0.05, 0.95, 0], 2, 3));
            Assert.IsType<SparseCategoricalAccuracy>(metric.Resolved);
            Assert.Equal(0.5, metric.Result(), 12);
            Assert.Equal("acc", metric.Resolved!.Name);
        }
    }

    [Fact]
    public void UpdateState_OneHotLabels_ResolvesToCategoricalAccuracy()
    {
        var metric = new AutoAccuracy();
        metric.UpdateState(T([0, 0, 1, 0, 1, 0], 2, 3), T([0.1, 0.9, 0.8, 0.05, 0.95, 0], 2, 3));
        Assert.IsType<CategoricalAccuracy>(metric.Resolved);
        Assert.Equal(0.5, metric.Result(), 12);
    }

    [Fact]
    public void ResetState_KeepsTheResolvedAccuracyAndClearsItsValues()
    {
        var metric = new AutoAccuracy();
        Assert.Equal(0.0, metric.Result());
        metric.UpdateState(T([1, 0], 2, 1), T([0.9, 0.9], 2, 1));
        var resolved = metric.Resolved;
        metric.ResetState();
        Assert.Same(resolved, metric.Resolved);
        Assert.Equal(0.0, metric.Result());
        metric.UpdateState(T([1, 0, 1], 3, 1), T([0.9, 0.1, 0.8], 3, 1));
        Assert.Equal(1.0, metric.Result(), 12);
    }
}
