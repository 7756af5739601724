using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class MeanTests
{
    [Fact]
    public void UpdateValues_KerasDocumentationExample_GivesDocumentedValues()
    {
        var m = new Mean();
        m.UpdateValues(T([1, 3, 5, 7], 4));
        Assert.Equal(4.0, m.Result());
        m.ResetState();
        m.UpdateValues(T([1, 3, 5, 7], 4), T([1, 1, 0, 0], 4));
        Assert.Equal(2.0, m.Result());
    }

    [Fact]
    public void UpdateValues_UnevenBatches_GivesMeanOverAllSamples()
    {
        var values = Feed.Numbers(10, seed: 1, 0, 5);
        var m = new Mean();
        m.UpdateValues(T(values[..4], 4));
        m.UpdateValues(T(values[4..7], 3));
        m.UpdateValues(T(values[7..], 3));
        Assert.Equal(values.Average(), m.Result(), 12);
        Assert.NotEqual(Feed.MeanOfBatchMeans(values, [4, 3, 3]), m.Result(), 6);
        Assert.Equal(10, m.Count);
        Assert.Equal(values.Sum(), m.Total, 12);
    }

    [Fact]
    public void UpdateValues_PerStepValues_CountEachSampleOnce()
    {
        // (batch 2, timesteps 3): each sample contributes the mean of its steps, and counts once.
        double[] values = [1, 2, 3, 10, 20, 60];
        var m = new Mean();
        m.UpdateValues(T(values, 2, 3));
        Assert.Equal(2, m.Count);
        Assert.Equal((2.0 + 30.0) / 2, m.Result(), 12);
    }

    [Fact]
    public void UpdateValues_PerSampleAndPerStepWeights_WeightedMean()
    {
        double[] values = [1, 2, 3, 10, 20, 60];
        var perSample = new Mean();
        perSample.UpdateValues(T(values, 2, 3), T([1, 3], 2));
        Assert.Equal((1 * 2.0 + 3 * 30.0) / 4, perSample.Result(), 12);

        double[] w = [1, 0, 1, 2, 2, 0];
        var perStep = new Mean();
        perStep.UpdateValues(T(values, 2, 3), T(w, 2, 3));
        Assert.Equal(values.Zip(w, (v, x) => v * x).Sum() / w.Sum(), perStep.Result(), 12);
    }

    [Fact]
    public void UpdateValues_ScalarWeight_CountsTheBatchAsOneSampleOfThatWeight()
    {
        var m = new Mean();
        m.UpdateValues(T([1, 3], 2), tensor(3.0, ScalarType.Float64));
        m.UpdateValues(T([10], 1));
        Assert.Equal(4, m.Count);
        Assert.Equal((3 * 2.0 + 10) / 4, m.Result(), 12);
    }

    [Fact]
    public void UpdateValue_WeightedByBatchSize_GivesSampleMean()
    {
        var m = new Mean("loss");
        m.UpdateValue(2.0, weight: 32);
        m.UpdateValue(5.0, weight: 8);
        Assert.Equal((2.0 * 32 + 5.0 * 8) / 40, m.Result(), 12);
        Assert.Equal("loss", m.Name);
    }

    [Fact]
    public void ResetState_AfterUpdates_ResultIsZeroUntilNextUpdate()
    {
        var m = new Mean();
        Assert.Equal(0.0, m.Result());
        m.UpdateValues(T([4, 6], 2));
        m.ResetState();
        Assert.Equal(0.0, m.Result());
        m.UpdateValues(T([1], 1));
        Assert.Equal(1.0, m.Result());
    }

    [Fact]
    public void UpdateValues_WeightsOfWrongShape_ThrowAndLeaveStateUnchanged()
    {
        var m = new Mean();
        m.UpdateValues(T([4, 6], 2));
        var ex = Assert.Throws<ArgumentException>(() => m.UpdateValues(T([1, 2, 3], 3), T([1, 1], 2)));
        Assert.Contains("sample_weight.shape=[2]", ex.Message);
        Assert.Equal(5.0, m.Result());
        Assert.Equal(2, m.Count);
    }

    [Fact]
    public void UpdateState_PlainMean_ThrowsPointingToUpdateValues()
    {
        var ex = Assert.Throws<NotSupportedException>(() => new Mean().UpdateState(zeros(2), zeros(2)));
        Assert.Contains("UpdateValues", ex.Message);
    }

    [Fact]
    public void UpdateValues_ValuesRequiringGrad_AccumulatedWithoutGradient()
    {
        var x = ones(3, requires_grad: true);
        var m = new Mean();
        m.UpdateValues(x * 2);
        Assert.Equal(2.0, m.Result(), 12);
        Assert.Null(x.grad);
    }
}
