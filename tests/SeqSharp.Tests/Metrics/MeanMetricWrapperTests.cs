using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class MeanMetricWrapperTests
{
    [Fact]
    public void UpdateState_CustomFunction_AveragesItsPerSampleValuesOverAllBatches()
    {
        var yTrue = Feed.Numbers(20, seed: 2);
        var yPred = Feed.Numbers(20, seed: 3);
        var metric = new MeanMetricWrapper((t, p) => (t - p).abs().amax([-1]), name: "max_abs_error");
        Feed.InBatches(metric, T(yTrue, 10, 2), T(yPred, 10, 2));
        var perSample = Enumerable.Range(0, 10).Select(i => Math.Max(Math.Abs(yTrue[2 * i] - yPred[2 * i]), Math.Abs(yTrue[2 * i + 1] - yPred[2 * i + 1]))).ToArray();
        Assert.Equal(perSample.Average(), metric.Result(), 12);
        Assert.Equal("max_abs_error", metric.Name);
        Assert.Equal(new Dictionary<string, object?> { ["name"] = "max_abs_error" }, metric.GetConfig());
    }

    [Fact]
    public void Ctor_Defaults_NameAndNullFunction()
    {
        Assert.Equal("mean_metric_wrapper", new MeanMetricWrapper((t, p) => t).Name);
        Assert.Throws<ArgumentNullException>(() => new MeanMetricWrapper((Func<Tensor, Tensor, Tensor>)null!));
        Assert.Throws<ArgumentNullException>(() => new MeanMetricWrapper((string)null!));
    }
}
