using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using F = TorchSharp.torch.nn.functional;

namespace SeqSharp.Tests.Layers.Normalization;

public class LayerNormalizationTests
{
    [Fact]
    public void Call_LastAxis_MatchesNativeLayerNormOutputsAndGradients()
    {
        manual_seed(1);
        var layer = new LayerNormalization();
        layer.Build([5, 6]);
        using (no_grad())
        {
            layer.Weights[0].uniform_(0.5, 1.5);   // gamma
            layer.Weights[1].uniform_(-0.5, 0.5);  // beta
        }
        var x = randn(3, 5, 6).requires_grad_(true);
        var xNative = x.detach().clone().requires_grad_(true);
        Tensor gamma = layer.Weights[0].detach().clone().requires_grad_(true), beta = layer.Weights[1].detach().clone().requires_grad_(true);
        var ours = layer.Call(x);
        var expected = F.layer_norm(xNative, [6], gamma, beta, eps: 1e-3);
        TensorAssert.Close(expected, ours, atol: 1e-5, what: "output");
        var probe = randn_like(ours);
        (ours * probe).sum().backward();
        (expected * probe).sum().backward();
        TensorAssert.Close(xNative.grad!, x.grad!, atol: 1e-5, what: "input gradient");
        TensorAssert.Close(gamma.grad!, layer.Weights[0].grad!, atol: 1e-5, what: "gamma gradient");
        TensorAssert.Close(beta.grad!, layer.Weights[1].grad!, atol: 1e-5, what: "beta gradient");
    }

    [Fact]
    public void Call_TimeAxis_MatchesHandComputedFloat64()
    {
        manual_seed(2);
        var layer = new LayerNormalization(axis: 1, epsilon: 0.01, dtype: ScalarType.Float64);
        var x = randn(2, 4, 3, dtype: ScalarType.Float64);
        layer.Build([4, 3]);
        using (no_grad())
            layer.Weights[0].copy_(tensor(new double[] { 1, 2, 0.5, -1 }));
        var y = layer.Call(x);
        for (int b = 0; b < 2; b++)
            for (int f = 0; f < 3; f++)
            {
                var column = Enumerable.Range(0, 4).Select(t => x[b, t, f].item<double>()).ToArray();
                double mean = column.Average(), variance = column.Sum(v => (v - mean) * (v - mean)) / 4;
                for (int t = 0; t < 4; t++)
                {
                    double expected = (column[t] - mean) / Math.Sqrt(variance + 0.01) * new[] { 1, 2, 0.5, -1 }[t];
                    Assert.Equal(expected, y[b, t, f].item<double>(), 1e-12);
                }
            }
    }

    [Fact]
    public void LayerHarness_WithAndWithoutCenterAndScale()
    {
        LayerHarness.Run(new LayerNormalization(), randn(4, 3, 5), [4, 3, 5], trainableWeights: 2, parameters: 10);
        LayerHarness.Run(new LayerNormalization(center: false, scale: false), randn(4, 5), [4, 5], trainableWeights: 0, parameters: 0);
    }

    [Fact]
    public void FromConfig_KerasAxisList_Accepted()
    {
        var config = new LayerNormalization(axis: 2).GetConfig();
        config["axis"] = new long[] { 2 };
        Assert.Equal(2, ((LayerNormalization)Layer.FromConfig("LayerNormalization", config)).Axis);
    }

    [Fact]
    public void Constructor_BatchAxis_Throws()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new LayerNormalization(axis: 0));
        Assert.Contains("axis=0", e.Message);
    }
}
