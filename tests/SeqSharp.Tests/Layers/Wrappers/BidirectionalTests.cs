using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Layers.Wrappers;

public class BidirectionalTests(ITestOutputHelper output)
{
    private static Bidirectional Built(Rnn layer, string mergeMode, long[] sampleShape)
    {
        var wrapper = new Bidirectional(layer, mergeMode);
        wrapper.Build(sampleShape);
        using (no_grad())
        {
            wrapper.ForwardLayer.Weights[2].uniform_(-0.5, 0.5);
            wrapper.BackwardLayer.Weights[2].uniform_(-0.5, 0.5);
        }
        return wrapper;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Call_Lstm_MatchesNativeBidirectionalLstmOutputsAndGradients(bool returnSequences)
    {
        manual_seed(1);
        var layer = Built(new LSTM(5, returnSequences: returnSequences), "concat", [7, 3]);
        var native = NativeModules.BidirectionalLstm(layer);
        var x = randn(4, 7, 3).requires_grad_(true);
        var xNative = x.detach().clone().requires_grad_(true);
        var ours = layer.Call(x);
        var (all, _, _) = native.call(xNative);
        // Keras's last output: the forward direction's at the end, the backward direction's at step 0.
        var expected = returnSequences ? all : cat([all[.., -1, ..5], all[.., 0, 5..]], -1);
        double forward = TensorAssert.Close(expected, ours, atol: 1e-5, what: "output");
        var probe = randn_like(ours);
        (ours * probe).sum().backward();
        (expected * probe).sum().backward();
        double dx = TensorAssert.Close(xNative.grad!, x.grad!, atol: 1e-5, rtol: 1e-5, what: "input gradient");
        TensorAssert.Close(NativeModules.Grad(native, "weight_ih_l0_reverse").t(), layer.BackwardLayer.Weights[0].grad!, atol: 1e-5, rtol: 1e-5, what: "backward kernel gradient");
        TensorAssert.Close(NativeModules.Grad(native, "weight_hh_l0").t(), layer.ForwardLayer.Weights[1].grad!, atol: 1e-5, rtol: 1e-5, what: "forward recurrent gradient");
        output.WriteLine($"Bidirectional LSTM seq={returnSequences}: max |diff| output {forward:E2}, dx {dx:E2}");
    }

    [Fact]
    public void Call_Gru_MatchesNativeBidirectionalGru()
    {
        manual_seed(2);
        var layer = Built(new GRU(4, returnSequences: true), "concat", [6, 2]);
        var x = randn(3, 6, 2);
        var (expected, _) = NativeModules.BidirectionalGru(layer).call(x);
        TensorAssert.Close(expected, layer.Call(x), atol: 1e-5);
    }

    [Theory]
    [InlineData("sum")]
    [InlineData("mul")]
    [InlineData("ave")]
    public void Call_MergeModes_CombineTheConcatenatedHalves(string mode)
    {
        manual_seed(3);
        var concat = Built(new SimpleRNN(3, returnSequences: true), "concat", [5, 2]);
        var merged = new Bidirectional(new SimpleRNN(3, returnSequences: true), mode);
        merged.Build([5, 2]);
        merged.SetWeights(concat.GetWeights());
        var x = randn(2, 5, 2);
        var both = concat.Call(x);
        Tensor a = both[.., .., ..3], b = both[.., .., 3..];
        var expected = mode switch { "sum" => a + b, "mul" => a * b, _ => (a + b) / 2 };
        TensorAssert.Close(expected, merged.Call(x), atol: 1e-6);
        Assert.Equal(new long[] { 5, 3 }, merged.OutputShape);
    }

    [Fact]
    public void CallWithMask_ReturnSequences_MaskedStepsZeroAndMaskPassedOn()
    {
        manual_seed(4);
        var layer = Built(new LSTM(3, returnSequences: true), "concat", [5, 2]);
        var native = NativeModules.BidirectionalLstm(layer);
        var x = randn(1, 5, 2);
        var mask = tensor(new[,] { { true, true, true, false, false } });
        var (y, outMask) = layer.CallWithMask(x, mask);
        Assert.Same(mask, outMask);
        var (valid, _, _) = native.call(x[.., ..3]);
        TensorAssert.Close(valid, y[.., ..3], atol: 1e-6, what: "real steps = both directions over the real steps only");
        Assert.Equal(0f, y[.., 3..].abs().sum().item<float>());
    }

    [Fact]
    public void CallWithState_ForwardThenBackwardStates()
    {
        var layer = new Bidirectional(new LSTM(3, returnState: true));
        var (_, states) = layer.CallWithState(randn(2, 4, 5));
        Assert.Equal(4, states.Count);
        Assert.All(states, s => Assert.Equal(new long[] { 2, 3 }, s.shape));
        Assert.Throws<ArgumentException>(() => new Sequential([new Bidirectional(new GRU(3, returnState: true), inputShape: [4, 5])]));
    }

    [Fact]
    public void Constructor_CopiesTheLayerLikeKeras()
    {
        var lstm = new LSTM(4, name: "enc", returnSequences: true);
        var layer = new Bidirectional(lstm);
        Assert.Equal("forward_enc", layer.ForwardLayer.Name);
        Assert.Equal("backward_enc", layer.BackwardLayer.Name);
        Assert.NotSame(lstm, layer.ForwardLayer);
        Assert.False(layer.ForwardLayer.GoBackwards);
        Assert.True(layer.BackwardLayer.GoBackwards);
        Assert.True(layer.ForwardLayer.ZeroOutputForMask);
        LayerHarness.Run(layer, randn(2, 6, 3), [2, 6, 8], trainableWeights: 6, parameters: 2 * (4 * 4 * (3 + 4) + 16));
        Assert.Same(layer.ForwardLayer.Weights[0], layer.Weights[0]);
        Assert.Same(layer.BackwardLayer.Weights[0], layer.Weights[3]);
    }

    [Fact]
    public void Constructor_InvalidMergeModeOrMismatchedBackwardLayer_Throws()
    {
        Assert.Contains("Received: max", Assert.Throws<ArgumentException>(() => new Bidirectional(new LSTM(2), "max")).Message);
        var e = Assert.Throws<ArgumentException>(() => new Bidirectional(new LSTM(2), backwardLayer: new LSTM(2)));
        Assert.Contains("different goBackwards", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Bidirectional(new LSTM(2), backwardLayer: new LSTM(2, goBackwards: true, returnSequences: true)));
        Assert.Contains("returnSequences", e.Message);
    }

    [Fact]
    public void ResetStates_NotStateful_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => new Bidirectional(new GRU(2)).ResetStates());
    }
}
