using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Regularization;

public class GaussianNoiseTests
{
    [Fact]
    public void Call_Training_AddsZeroMeanNoiseOfGivenStddev()
    {
        var layer = new GaussianNoise(0.2);
        layer.train();
        var x = randn(100, 200);
        var noise = layer.Call(x) - x;
        Assert.InRange(noise.mean().item<float>(), -0.005, 0.005);     // 20,000 draws: sd of the mean 0.0014
        Assert.InRange(noise.std().item<float>(), 0.196, 0.204);
    }

    [Fact]
    public void LayerHarness_InferencePassThrough()
    {
        var x = randn(2, 4, 3);
        TensorAssert.Close(x, LayerHarness.Run(new GaussianNoise(0.5, seed: 3), x, [2, 4, 3]), atol: 0);
    }

    [Fact]
    public void Call_SameSeed_SameNoise()
    {
        var a = new GaussianNoise(0.5, seed: 9);
        var b = new GaussianNoise(0.5, seed: 9);
        a.train();
        b.train();
        var x = zeros(4, 5);
        TensorAssert.Close(a.Call(x), b.Call(x), atol: 0);
    }

    [Fact]
    public void Constructor_StddevAboveOne_ThrowsLikeKeras()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianNoise(1.5));
        Assert.Contains("stddev=1.5", e.Message);
    }
}
