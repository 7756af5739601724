using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using Dropout = SeqSharp.Layers.Dropout;

namespace SeqSharp.Tests.Layers.Regularization;

public class DropoutTests
{
    [Fact]
    public void Call_InferenceMode_ReturnsInputUnchanged()
    {
        var x = randn(4, 5, 3);
        var y = LayerHarness.Run(new Dropout(0.5), x, [4, 5, 3]);
        TensorAssert.Close(x, y, atol: 0, what: "eval output");
    }

    [Fact]
    public void Call_Training_DropsAboutRateAndScalesTheRestExactly()
    {
        var layer = new Dropout(0.3);
        layer.train();
        var x = rand(200, 100) + 1;
        var y = layer.Call(x);
        var dropped = y.eq(0);
        double fraction = dropped.to_type(ScalarType.Float32).mean().item<float>();
        Assert.InRange(fraction, 0.27, 0.33);   // 20,000 draws: sd of the fraction ≈ 0.003
        var kept = dropped.logical_not();
        TensorAssert.Close(x.masked_select(kept) / 0.7, y.masked_select(kept), atol: 1e-6, what: "kept values");
    }

    [Fact]
    public void Call_NoiseShapeWithOneOnTimeAxis_SameMaskAtEveryStep()
    {
        var layer = new Dropout(0.5, noiseShape: [null, 1, null]);
        layer.train();
        var y = layer.Call(ones(3, 6, 40));
        for (int t = 1; t < 6; t++)
            TensorAssert.Close(y[.., 0], y[.., t], atol: 0, what: $"step {t}");
    }

    [Fact]
    public void Call_Training_GradientIsTheMask()
    {
        var layer = new Dropout(0.5);
        layer.train();
        var x = randn(8, 10).requires_grad_(true);
        var y = layer.Call(x);
        y.sum().backward();
        TensorAssert.Close(y.detach() / x.detach(), x.grad!, atol: 1e-5, what: "gradient");
    }

    [Fact]
    public void Call_RateOneAndZero_AllDroppedOrNone()
    {
        var all = new Dropout(1.0);
        var none = new Dropout(0.0);
        all.train();
        none.train();
        var x = randn(3, 4);
        Assert.Equal(0f, all.Call(x).abs().sum().item<float>());
        TensorAssert.Close(x, none.Call(x), atol: 0);
    }

    [Fact]
    public void Call_SameSeed_SameMasks()
    {
        var a = new Dropout(0.5, seed: 42);
        var b = new Dropout(0.5, seed: 42);
        a.train();
        b.train();
        var x = ones(10, 10);
        TensorAssert.Close(a.Call(x), b.Call(x), atol: 0, what: "seeded masks");
    }

    [Fact]
    public void CallWithMask_PassesMaskOn()
    {
        var mask = tensor(new[,] { { true, false } });
        Assert.Same(mask, new Dropout(0.5).CallWithMask(zeros(1, 2, 3), mask).Mask);
    }

    [Theory]
    [InlineData(-0.5)]
    [InlineData(1.5)]
    public void Constructor_RateOutsideUnitInterval_Throws(double rate)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(rate));
        Assert.Contains($"rate={rate}", e.Message);
    }

    [Fact]
    public void Call_NoiseShapeOfOtherRank_Throws()
    {
        var layer = new Dropout(0.5, noiseShape: [null, 1], name: "drop");
        layer.train();
        var e = Assert.Throws<ArgumentException>(() => layer.Call(zeros(2, 3, 4)));
        Assert.Contains("'drop'", e.Message);
        Assert.Contains("[2, 3, 4]", e.Message);
    }
}
