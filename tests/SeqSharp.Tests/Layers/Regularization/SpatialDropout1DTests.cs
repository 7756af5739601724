using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Regularization;

public class SpatialDropout1DTests
{
    [Fact]
    public void Call_Training_DropsWholeChannelsAtEveryStep()
    {
        var layer = new SpatialDropout1D(0.5);
        layer.train();
        var y = layer.Call(ones(20, 7, 30));
        var first = y[.., 0];
        for (int t = 1; t < 7; t++)
            TensorAssert.Close(first, y[.., t], atol: 0, what: $"step {t}");
        var values = first.unique().Item1.data<float>().ToArray();
        Assert.Equal(new[] { 0f, 2f }, values);
    }

    [Fact]
    public void LayerHarness_InferencePassThroughAndConfigWithoutNoiseShape()
    {
        var x = randn(2, 4, 3);
        TensorAssert.Close(x, LayerHarness.Run(new SpatialDropout1D(0.3, seed: 1), x, [2, 4, 3]), atol: 0);
        Assert.False(new SpatialDropout1D(0.3).GetConfig().ContainsKey("noise_shape"));
    }

    [Fact]
    public void Call_Rank2Input_ThrowsNamingExpectedRank()
    {
        var e = Assert.Throws<ArgumentException>(() => new SpatialDropout1D(0.3, name: "sd").Call(zeros(2, 3)));
        Assert.Contains("'sd'", e.Message);
        Assert.Contains("expected rank 3", e.Message);
    }
}
