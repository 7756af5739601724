using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Layers.Recurrent;

public class LstmTests
{
    public static TheoryData<int, int, int, int, bool, bool> Shapes => new()
    {
        // batch, steps, features, units, returnSequences, goBackwards
        { 4, 10, 1, 8, true, false },
        { 4, 10, 1, 8, false, false },
        { 3, 7, 5, 6, true, true },
        { 3, 7, 5, 6, false, true },
        { 1, 13, 3, 5, true, false },
        { 5, 1, 2, 3, true, false },
        { 5, 1, 2, 3, false, true },
        { 7, 200, 3, 9, true, false },
        { 2, 200, 4, 16, false, true },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Call_SameWeightsAsNativeLstm_MatchesOutputsAndGradients(int batch, int steps, int features, int units, bool returnSequences, bool goBackwards)
    {
        manual_seed(batch * 1000 + steps);
        var layer = new LSTM(units, returnSequences: returnSequences, goBackwards: goBackwards);
        layer.Build([steps, features]);
        // Non-zero biases so that the bias path is exercised.
        using (no_grad())
            layer.Weights[2].uniform_(-0.5, 0.5);
        var native = NativeModules.Lstm(layer);

        var x = randn(batch, steps, features).requires_grad_(true);
        var xNative = x.detach().clone().requires_grad_(true);
        var ours = layer.Call(x);
        var (all, _, _) = native.call(goBackwards ? xNative.flip(1) : xNative);
        var expected = returnSequences ? all : all.select(1, steps - 1);
        TensorAssert.Close(expected, ours, atol: 1e-5, what: "output");

        var probe = randn_like(expected);
        (ours * probe).sum().backward();
        (expected * probe).sum().backward();
        TensorAssert.Close(xNative.grad!, x.grad!, atol: 1e-5, rtol: 1e-4, what: "input gradient");
        TensorAssert.Close(NativeModules.Grad(native, "weight_ih_l0").t(), layer.Weights[0].grad!, atol: 1e-4, rtol: 1e-4, what: "kernel gradient");
        TensorAssert.Close(NativeModules.Grad(native, "weight_hh_l0").t(), layer.Weights[1].grad!, atol: 1e-4, rtol: 1e-4, what: "recurrent kernel gradient");
        TensorAssert.Close(NativeModules.Grad(native, "bias_ih_l0"), layer.Weights[2].grad!, atol: 1e-4, rtol: 1e-4, what: "bias gradient");
    }

    [Fact]
    public void Call_WithoutBias_MatchesNativeLstm()
    {
        manual_seed(3);
        var layer = new LSTM(4, useBias: false, returnSequences: true);
        layer.Build([6, 3]);
        Assert.Equal(2, layer.Weights.Count);
        var native = NativeModules.Lstm(layer);
        var x = randn(2, 6, 3);
        TensorAssert.Close(native.call(x).Item1, layer.Call(x), atol: 1e-5);
    }

    [Fact]
    public void Call_FusedAndOpByOp_AgreeForFusableActivations()
    {
        // hard_sigmoid is left to the finite-difference test: LibTorch's hardsigmoid backward
        // multiplies by 1/6 rounded to float even in float64, so its reference is off by 3e-8.
        foreach (var (activation, recurrent) in new[] { ("relu", "sigmoid"), ("elu", "sigmoid"), ("softsign", "softplus"), ("selu", "tanh"), ("linear", "sigmoid") })
        {
            manual_seed(11);
            var layer = new LSTM(5, activation: activation, recurrentActivation: recurrent, returnSequences: true, dtype: ScalarType.Float64);
            layer.Build([8, 3]);
            var x = (0.3 * randn(3, 8, 3, dtype: ScalarType.Float64)).requires_grad_(true);
            var fused = layer.Call(x);
            var probe = randn_like(fused);
            var gFused = autograd.grad([(fused * probe).sum()], [x, layer.Weights[0], layer.Weights[1], layer.Weights[2]]);
            layer.Implementation = RecurrentImplementation.OpByOp;
            var plain = layer.Call(x);
            var gPlain = autograd.grad([(plain * probe).sum()], [x, layer.Weights[0], layer.Weights[1], layer.Weights[2]]);
            TensorAssert.Close(plain, fused, atol: 1e-12, what: $"{activation}/{recurrent} output");
            for (int k = 0; k < gPlain.Count; k++)
                TensorAssert.Close(gPlain[k], gFused[k], atol: 1e-12, rtol: 1e-10, what: $"{activation}/{recurrent} gradient {k}");
        }
    }

    [Fact]
    public void Call_GeluActivation_FallsBackToOpByOpAndStillRuns()
    {
        var layer = new LSTM(3, activation: "gelu");
        Assert.False(layer.Cell.CanFuse);
        var y = layer.Call(randn(2, 4, 2));
        Assert.Equal(new long[] { 2, 3 }, y.shape);
        layer.Implementation = RecurrentImplementation.Fused;
        Assert.Throws<InvalidOperationException>(() => layer.Call(randn(2, 4, 2)));
    }

    [Fact]
    public void Build_DefaultInitializers_FollowKeras()
    {
        manual_seed(5);
        var layer = new LSTM(32);
        layer.Build([10, 16]);
        var (kernel, recurrent, bias) = (layer.Weights[0], layer.Weights[1], layer.Weights[2]);
        Assert.Equal(new long[] { 16, 128 }, kernel.shape);
        Assert.Equal(new long[] { 32, 128 }, recurrent.shape);
        Assert.Equal(new long[] { 128 }, bias.shape);

        // glorot_uniform: within ±sqrt(6 / (16 + 128)), and spread over that range.
        double limit = Math.Sqrt(6.0 / (16 + 128));
        Assert.True(kernel.abs().max().item<float>() <= limit);
        Assert.True(kernel.abs().max().item<float>() > 0.95 * limit);
        Assert.InRange(kernel.std().item<float>(), 0.9 * limit / Math.Sqrt(3), 1.1 * limit / Math.Sqrt(3));

        // orthogonal (32, 128): orthonormal rows.
        TensorAssert.Close(eye(32), recurrent.matmul(recurrent.t()), atol: 1e-5, what: "U Uᵀ");

        // unit_forget_bias: zeros except ones for the forget gate.
        TensorAssert.Close(cat([zeros(32), ones(32), zeros(64)]), bias, atol: 0, what: "bias");
    }

    [Fact]
    public void Build_UnitForgetBiasFalse_AllZeroBias()
    {
        var layer = new LSTM(4, unitForgetBias: false);
        layer.Build([3, 2]);
        Assert.Equal(0f, layer.Weights[2].abs().sum().item<float>());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Constructor_NonPositiveUnits_Throws(int units)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new LSTM(units));
        Assert.Contains($"units={units}", e.Message);
    }

    [Fact]
    public void Constructor_UnknownActivation_ListsValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => new LSTM(4, activation: "tanhh"));
        Assert.Contains("'tanhh'", e.Message);
        Assert.Contains("sigmoid", e.Message);
    }

    [Fact]
    public void Call_Rank2Input_ThrowsWithLayerNameAndShapes()
    {
        var layer = new LSTM(4, name: "lstm");
        var e = Assert.Throws<ArgumentException>(() => layer.Call(zeros(32, 8)));
        Assert.Equal("Input 0 of layer 'lstm' is incompatible with the layer: expected rank 3, found rank 2. Full shape received: [32, 8].", e.Message);
        Assert.False(layer.Built);
    }

    [Fact]
    public void Call_WrongFeatureSize_ThrowsAndKeepsWeights()
    {
        var layer = new LSTM(4, name: "enc");
        layer.Build([5, 3]);
        var before = layer.GetWeights();
        var e = Assert.Throws<ArgumentException>(() => layer.Call(zeros(2, 5, 7)));
        Assert.Contains("'enc'", e.Message);
        Assert.Contains("axis -1", e.Message);
        Assert.Contains("value 3", e.Message);
        Assert.Contains("[2, 5, 7]", e.Message);
        for (int k = 0; k < before.Count; k++)
            Assert.True(before[k].allclose(layer.Weights[k], rtol: 0, atol: 0));
    }

    [Fact]
    public void GetWeightsSetWeights_KerasOrderAndRoundTrip()
    {
        var a = new LSTM(3, usePeepholes: true);
        a.Build([4, 2]);
        var weights = a.GetWeights();
        Assert.Equal(new[] { new long[] { 2, 12 }, [3, 12], [12], [3, 3] }, weights.Select(w => w.shape).ToArray());
        var b = new LSTM(3, usePeepholes: true);
        b.Build([4, 2]);
        b.SetWeights(weights);
        var x = randn(2, 4, 2);
        TensorAssert.Close(a.Call(x), b.Call(x), atol: 0);
    }

    [Fact]
    public void SetWeights_WrongShape_ThrowsAndChangesNothing()
    {
        var layer = new LSTM(3);
        layer.Build([4, 2]);
        var before = layer.GetWeights();
        var bad = new[] { zeros(2, 12), zeros(3, 12), zeros(11) };
        var e = Assert.Throws<ArgumentException>(() => layer.SetWeights(bad));
        Assert.Contains("[12]", e.Message);
        Assert.Contains("[11]", e.Message);
        for (int k = 0; k < before.Count; k++)
            Assert.True(before[k].allclose(layer.Weights[k], rtol: 0, atol: 0));
    }
}
