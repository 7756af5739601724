using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;
using NonLinearities = TorchSharp.torch.nn.NonLinearities;

namespace SeqSharp.Tests.Layers.Recurrent;

public class SimpleRnnTests(ITestOutputHelper output)
{
    public static TheoryData<string, int, int, int, int, bool, bool> Shapes => new()
    {
        // activation, batch, steps, features, units, returnSequences, goBackwards
        { "tanh", 4, 10, 1, 8, true, false },
        { "tanh", 4, 10, 1, 8, false, false },
        { "tanh", 3, 7, 5, 6, true, true },
        { "tanh", 3, 7, 5, 6, false, true },
        { "tanh", 1, 13, 3, 5, true, false },
        { "tanh", 5, 1, 2, 3, true, false },
        { "tanh", 5, 1, 2, 3, false, true },
        { "tanh", 7, 200, 3, 9, true, false },
        { "tanh", 2, 200, 4, 16, false, true },
        { "relu", 4, 10, 1, 8, true, false },
        { "relu", 3, 7, 5, 6, false, true },
        { "relu", 1, 13, 3, 5, true, true },
        { "relu", 5, 1, 2, 3, false, false },
        { "relu", 7, 200, 3, 9, true, false },
        { "relu", 2, 200, 4, 16, false, true },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Call_SameWeightsAsNativeRnn_MatchesOutputsAndGradients(string activation, int batch, int steps, int features, int units, bool returnSequences, bool goBackwards)
    {
        manual_seed(batch * 1000 + steps + units);
        var layer = new SimpleRNN(units, activation: activation, returnSequences: returnSequences, goBackwards: goBackwards);
        layer.Build([steps, features]);
        // Non-zero biases so that the bias path is exercised.
        using (no_grad())
            layer.Weights[2].uniform_(-0.5, 0.5);
        var native = NativeModules.Rnn(layer, activation == "relu" ? NonLinearities.ReLU : NonLinearities.Tanh);

        var x = randn(batch, steps, features).requires_grad_(true);
        var xNative = x.detach().clone().requires_grad_(true);
        var ours = layer.Call(x);
        // Keras processes x backwards and returns the outputs in processing order: native on the flipped input.
        var (all, _) = native.call(goBackwards ? xNative.flip(1) : xNative);
        var expected = returnSequences ? all : all.select(1, steps - 1);
        double forward = TensorAssert.Close(expected, ours, atol: 1e-5, what: "output");

        var probe = randn_like(expected);
        (ours * probe).sum().backward();
        (expected * probe).sum().backward();
        double dx = TensorAssert.Close(xNative.grad!, x.grad!, atol: 1e-5, rtol: 1e-4, what: "input gradient");
        double dw = TensorAssert.Close(NativeModules.Grad(native, "weight_ih_l0").t(), layer.Weights[0].grad!, atol: 1e-4, rtol: 1e-4, what: "kernel gradient");
        double du = TensorAssert.Close(NativeModules.Grad(native, "weight_hh_l0").t(), layer.Weights[1].grad!, atol: 1e-4, rtol: 1e-4, what: "recurrent kernel gradient");
        double db = TensorAssert.Close(NativeModules.Grad(native, "bias_ih_l0"), layer.Weights[2].grad!, atol: 1e-4, rtol: 1e-4, what: "bias gradient");
        output.WriteLine($"SimpleRNN {activation} B{batch} T{steps} I{features} U{units} seq={returnSequences} back={goBackwards}: " +
            $"max |diff| output {forward:E2}, dx {dx:E2}, dkernel {dw:E2}, drecurrent {du:E2}, dbias {db:E2} (max |output| {expected.abs().max().item<float>():F2})");
    }

    [Theory]
    [InlineData("tanh")]
    [InlineData("relu")]
    public void Call_WithoutBias_MatchesNativeRnn(string activation)
    {
        manual_seed(3);
        var layer = new SimpleRNN(4, activation: activation, useBias: false, returnSequences: true);
        layer.Build([6, 3]);
        Assert.Equal(2, layer.Weights.Count);
        var native = NativeModules.Rnn(layer, activation == "relu" ? NonLinearities.ReLU : NonLinearities.Tanh);
        var x = randn(2, 6, 3).requires_grad_(true);
        var xNative = x.detach().clone().requires_grad_(true);
        var ours = layer.Call(x);
        var expected = native.call(xNative).Item1;
        double forward = TensorAssert.Close(expected, ours, atol: 1e-5, what: "output");
        var probe = randn_like(expected);
        (ours * probe).sum().backward();
        (expected * probe).sum().backward();
        double dx = TensorAssert.Close(xNative.grad!, x.grad!, atol: 1e-5, rtol: 1e-4, what: "input gradient");
        double dw = TensorAssert.Close(NativeModules.Grad(native, "weight_ih_l0").t(), layer.Weights[0].grad!, atol: 1e-5, rtol: 1e-4, what: "kernel gradient");
        double du = TensorAssert.Close(NativeModules.Grad(native, "weight_hh_l0").t(), layer.Weights[1].grad!, atol: 1e-5, rtol: 1e-4, what: "recurrent kernel gradient");
        output.WriteLine($"SimpleRNN {activation} without bias: max |diff| output {forward:E2}, dx {dx:E2}, dkernel {dw:E2}, drecurrent {du:E2}");
    }

    public static TheoryData<string> FusableActivations => new()
    {
        "linear", "relu", "tanh", "sigmoid", "elu", "selu", "softplus", "softsign", "exponential",
    };

    [Theory]
    [MemberData(nameof(FusableActivations))]
    public void Call_FusedAndOpByOp_AgreeInFloat64(string activation)
    {
        // hard_sigmoid's gradient is left to the finite-difference test: LibTorch's hardsigmoid backward
        // multiplies by 1/6 rounded to float even in float64, so the op-by-op reference is off by 3e-8.
        manual_seed(11);
        bool exponential = activation == "exponential";
        var layer = new SimpleRNN(5, activation: activation, returnSequences: true, dtype: ScalarType.Float64);
        int steps = exponential ? 3 : 8;
        layer.Build([steps, 3]);
        using (no_grad())
        {
            layer.Weights[2].uniform_(-0.5, 0.5);
            if (exponential)
                layer.Weights[1].mul_(0.2);   // keeps e^(h U) from overflowing
        }
        Assert.True(layer.Cell.CanFuse);
        var x = (0.5 * randn(3, steps, 3, dtype: ScalarType.Float64)).requires_grad_(true);
        Tensor[] wrt = [x, .. layer.Weights];

        layer.Implementation = RecurrentImplementation.Fused;
        var fused = layer.Call(x);
        var probe = randn_like(fused);
        var gFused = autograd.grad([(fused * probe).sum()], wrt);
        layer.Implementation = RecurrentImplementation.OpByOp;
        var plain = layer.Call(x);
        var gPlain = autograd.grad([(plain * probe).sum()], wrt);

        Assert.True(fused.abs().max().item<double>() < 1e3, "Values are too large for a meaningful comparison.");
        double forward = TensorAssert.Close(plain, fused, atol: 1e-12, rtol: 1e-12, what: $"{activation} output");
        double worst = 0;
        string[] names = ["input", "kernel", "recurrent kernel", "bias"];
        for (int k = 0; k < gPlain.Count; k++)
            worst = Math.Max(worst, TensorAssert.Close(gPlain[k], gFused[k], atol: 1e-12, rtol: 1e-10, what: $"{activation} {names[k]} gradient"));
        output.WriteLine($"SimpleRNN {activation} float64 fused vs op-by-op: output {forward:E2}, gradients {worst:E2}");
    }

    [Fact]
    public void Call_HardSigmoid_FusedForwardMatchesOpByOp()
    {
        manual_seed(12);
        var layer = new SimpleRNN(5, activation: "hard_sigmoid", returnSequences: true, dtype: ScalarType.Float64);
        layer.Build([8, 3]);
        var x = 2 * randn(3, 8, 3, dtype: ScalarType.Float64);
        var fused = layer.Call(x);
        layer.Implementation = RecurrentImplementation.OpByOp;
        TensorAssert.Close(layer.Call(x), fused, atol: 1e-14, what: "hard_sigmoid output");
        // Both saturated ends are reached, so the clipping is exercised.
        Assert.True(fused.min().item<double>() == 0 || fused.max().item<double>() == 1);
    }

    [Fact]
    public void Call_OutputShapes_FollowReturnSequences()
    {
        var sequences = new SimpleRNN(6, returnSequences: true);
        var last = new SimpleRNN(6);
        Assert.Equal(new long[] { 2, 9, 6 }, sequences.Call(randn(2, 9, 4)).shape);
        Assert.Equal(new long[] { 2, 6 }, last.Call(randn(2, 9, 4)).shape);
        Assert.Equal(new long[] { 9, 6 }, sequences.OutputShape);
        Assert.Equal(new long[] { 6 }, last.OutputShape);
    }

    [Fact]
    public void Call_NonFusableActivation_RunsOpByOp()
    {
        var layer = new SimpleRNN(3, activation: "swish");
        Assert.False(layer.Cell.CanFuse);
        Assert.Equal(new long[] { 2, 3 }, layer.Call(randn(2, 4, 2)).shape);
        layer.Implementation = RecurrentImplementation.Fused;
        Assert.Throws<InvalidOperationException>(() => layer.Call(randn(2, 4, 2)));
    }

    [Theory]
    [InlineData(new long[] { 32, 8 }, "expected rank 3, found rank 2. Full shape received: [32, 8].")]
    [InlineData(new long[] { 2, 3, 4, 5 }, "expected rank 3, found rank 4. Full shape received: [2, 3, 4, 5].")]
    public void Call_WrongRank_ThrowsWithLayerNameAndShapes(long[] shape, string expected)
    {
        var layer = new SimpleRNN(4, name: "rnn");
        var e = Assert.Throws<ArgumentException>(() => layer.Call(zeros(shape)));
        Assert.Equal("Input 0 of layer 'rnn' is incompatible with the layer: " + expected, e.Message);
        Assert.False(layer.Built);
    }

    [Fact]
    public void Call_WrongFeatureSize_ThrowsAndKeepsWeights()
    {
        var layer = new SimpleRNN(4, name: "enc");
        layer.Build([5, 3]);
        var before = layer.GetWeights();
        var e = Assert.Throws<ArgumentException>(() => layer.Call(zeros(2, 5, 7)));
        Assert.Equal("Input 0 of layer 'enc' is incompatible with the layer: expected axis -1 of the input shape to have value 3, " +
            "but received input with shape [2, 5, 7].", e.Message);
        for (int k = 0; k < before.Count; k++)
            Assert.True(before[k].allclose(layer.Weights[k], rtol: 0, atol: 0));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Constructor_NonPositiveUnits_Throws(int units)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SimpleRNN(units));
        Assert.Contains($"units={units}", e.Message);
    }

    [Fact]
    public void Constructor_UnknownActivation_ListsValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => new SimpleRNN(4, activation: "tan"));
        Assert.Contains("'tan'", e.Message);
        Assert.Contains("tanh", e.Message);
    }

    [Fact]
    public void Build_DefaultInitializers_FollowKeras()
    {
        manual_seed(5);
        var layer = new SimpleRNN(64);
        layer.Build([10, 32]);
        var (kernel, recurrent, bias) = (layer.Weights[0], layer.Weights[1], layer.Weights[2]);
        Assert.Equal(new long[] { 32, 64 }, kernel.shape);
        Assert.Equal(new long[] { 64, 64 }, recurrent.shape);
        Assert.Equal(new long[] { 64 }, bias.shape);

        // glorot_uniform: within ±sqrt(6 / (32 + 64)) and spread over that range.
        double limit = Math.Sqrt(6.0 / (32 + 64));
        double max = kernel.abs().max().item<float>();
        Assert.InRange(max, 0.95 * limit, limit);
        Assert.InRange(kernel.std().item<float>(), 0.9 * limit / Math.Sqrt(3), 1.1 * limit / Math.Sqrt(3));

        // orthogonal, square: U Uᵀ = Uᵀ U = I.
        TensorAssert.Close(eye(64), recurrent.matmul(recurrent.t()), atol: 1e-5, what: "U Uᵀ");
        TensorAssert.Close(eye(64), recurrent.t().matmul(recurrent), atol: 1e-5, what: "Uᵀ U");

        Assert.Equal(0f, bias.abs().sum().item<float>());
        Assert.Equal(32 * 64 + 64 * 64 + 64, layer.CountParams());
    }

    [Fact]
    public void GetWeightsSetWeights_KerasOrderAndRoundTrip()
    {
        var a = new SimpleRNN(3);
        a.Build([4, 2]);
        var weights = a.GetWeights();
        Assert.Equal(new[] { new long[] { 2, 3 }, [3, 3], [3] }, weights.Select(w => w.shape).ToArray());
        var b = new SimpleRNN(3);
        b.Build([4, 2]);
        b.SetWeights(weights);
        var x = randn(2, 4, 2);
        TensorAssert.Close(a.Call(x), b.Call(x), atol: 0);
    }
}
