using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Kernels;

/// <summary>
/// The kernels skip the input gradient when the input needs none (the first layer of a model). The
/// weight gradients must still match LibTorch's modules, and a stacked layer must still pass its
/// gradient down to the layer below.
/// </summary>
public class InputGradientTests
{
    [Theory]
    [InlineData("lstm")]
    [InlineData("simple_rnn")]
    [InlineData("gru")]
    public void Backward_InputWithoutGrad_WeightGradientsMatchNativeAndInputGetsNone(string cell)
    {
        manual_seed(21);
        var (layer, native, toKeras) = RecurrentPairs.Create(cell, features: 3, units: 5);
        var x = randn(4, 9, 3);
        Assert.False(x.requires_grad);

        var ours = layer.Call(x);
        var expected = native(x);
        var probe = randn_like(expected);
        (ours * probe).sum().backward();
        (expected * probe).sum().backward();

        Assert.Null(x.grad);
        for (int k = 0; k < layer.Weights.Count; k++)
            TensorAssert.Close(toKeras(k), layer.Weights[k].grad!, atol: 1e-5, rtol: 1e-4, what: $"{cell} weight {k} gradient");
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("simple_rnn")]
    [InlineData("gru")]
    public void Backward_StackedLayers_LowerLayerStillReceivesItsGradient(string cell)
    {
        manual_seed(22);
        var (lower, lowerNative, lowerToKeras) = RecurrentPairs.Create(cell, features: 2, units: 4);
        var (upper, upperNative, _) = RecurrentPairs.Create(cell, features: 4, units: 3);
        var x = randn(3, 7, 2);

        var ours = upper.Call(lower.Call(x));
        var expected = upperNative(lowerNative(x));
        TensorAssert.Close(expected, ours, atol: 1e-5, what: "stacked output");
        var probe = randn_like(expected);
        (ours * probe).sum().backward();
        (expected * probe).sum().backward();

        for (int k = 0; k < lower.Weights.Count; k++)
        {
            Assert.True(lower.Weights[k].grad!.abs().max().item<float>() > 1e-4, $"lower weight {k} got no gradient");
            TensorAssert.Close(lowerToKeras(k), lower.Weights[k].grad!, atol: 1e-5, rtol: 1e-4, what: $"{cell} lower weight {k} gradient");
        }
    }
}
