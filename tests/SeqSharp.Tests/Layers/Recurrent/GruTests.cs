using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;
using GRU = SeqSharp.Layers.GRU;

namespace SeqSharp.Tests.Layers.Recurrent;

public class GruTests(ITestOutputHelper output)
{
    public static TheoryData<int, int, int, int, bool, bool, bool> Shapes => new()
    {
        // batch, steps, features, units, returnSequences, goBackwards, useBias
        { 4, 10, 1, 8, true, false, true },
        { 4, 10, 1, 8, false, false, true },
        { 3, 7, 5, 6, true, true, true },
        { 3, 7, 5, 6, false, true, true },
        { 3, 7, 5, 6, true, false, false },
        { 5, 1, 2, 3, true, false, true },
        { 5, 1, 2, 3, false, true, true },
        { 7, 200, 3, 9, true, false, true },
        { 2, 200, 4, 16, false, true, true },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Call_SameWeightsAsNativeGru_MatchesOutputsAndGradients(int batch, int steps, int features, int units, bool returnSequences, bool goBackwards, bool useBias)
    {
        manual_seed(batch * 1000 + steps);
        var layer = new GRU(units, returnSequences: returnSequences, goBackwards: goBackwards, useBias: useBias);
        layer.Build([steps, features]);
        if (useBias)
        {
            using (no_grad())
                layer.Weights[2].uniform_(-0.5, 0.5);
        }
        var native = NativeModules.Gru(layer);

        var x = randn(batch, steps, features).requires_grad_(true);
        var xNative = x.detach().clone().requires_grad_(true);
        var ours = layer.Call(x);
        var (all, _) = native.call(goBackwards ? xNative.flip(1) : xNative);
        var expected = returnSequences ? all : all.select(1, steps - 1);
        double forward = TensorAssert.Close(expected, ours, atol: 1e-5, what: "output");

        var probe = randn_like(expected);
        (ours * probe).sum().backward();
        (expected * probe).sum().backward();
        double dx = TensorAssert.Close(xNative.grad!, x.grad!, atol: 1e-5, rtol: 1e-5, what: "input gradient");
        double dw = TensorAssert.Close(NativeModules.KerasToTorchGates(NativeModules.Grad(native, "weight_ih_l0").t()), layer.Weights[0].grad!,
            atol: 1e-5, rtol: 1e-5, what: "kernel gradient");
        double du = TensorAssert.Close(NativeModules.KerasToTorchGates(NativeModules.Grad(native, "weight_hh_l0").t()), layer.Weights[1].grad!,
            atol: 1e-5, rtol: 1e-5, what: "recurrent kernel gradient");
        double db = 0;
        if (useBias)
        {
            var nativeBias = stack([
                NativeModules.KerasToTorchGates(NativeModules.Grad(native, "bias_ih_l0")),
                NativeModules.KerasToTorchGates(NativeModules.Grad(native, "bias_hh_l0"))], 0);
            db = TensorAssert.Close(nativeBias, layer.Weights[2].grad!, atol: 1e-5, rtol: 1e-5, what: "bias gradient");
        }
        double scale = Math.Max(layer.Weights[0].grad!.abs().max().item<float>(), layer.Weights[1].grad!.abs().max().item<float>());
        output.WriteLine($"GRU B{batch} T{steps} I{features} U{units} seq={returnSequences} back={goBackwards} bias={useBias}: " +
            $"max |diff| vs nn.GRU output {forward:E2}, dx {dx:E2}, dkernel {dw:E2}, drecurrent {du:E2}, dbias {db:E2} (largest weight gradient {scale:F1})");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Call_FusedAndOpByOp_AgreeForFusableActivations(bool resetAfter)
    {
        foreach (var (activation, recurrent) in new[] { ("tanh", "sigmoid"), ("relu", "sigmoid"), ("softsign", "softplus"), ("elu", "tanh") })
        {
            manual_seed(11);
            var layer = new GRU(5, activation: activation, recurrentActivation: recurrent, returnSequences: true, resetAfter: resetAfter, dtype: ScalarType.Float64);
            layer.Build([8, 3]);
            using (no_grad())
                layer.Weights[2].uniform_(-0.5, 0.5);
            var x = (0.5 * randn(3, 8, 3, dtype: ScalarType.Float64)).requires_grad_(true);
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

    [Theory]
    [InlineData(RecurrentImplementation.Fused)]
    [InlineData(RecurrentImplementation.OpByOp)]
    public void Call_ResetBefore_MatchesHandWrittenFloat64Reference(RecurrentImplementation implementation)
    {
        manual_seed(21);
        const int batch = 2, steps = 5, features = 3, units = 4;
        var layer = new GRU(units, returnSequences: true, resetAfter: false, dtype: ScalarType.Float64) { Implementation = implementation };
        layer.Build([steps, features]);
        using (no_grad())
            layer.Weights[2].uniform_(-0.5, 0.5);
        Assert.Equal(new long[] { 3 * units }, layer.Weights[2].shape);
        var x = randn(batch, steps, features, dtype: ScalarType.Float64);
        double[,] w = Matrix(layer.Weights[0]), u = Matrix(layer.Weights[1]);
        double[] b = layer.Weights[2].data<double>().ToArray();

        var expected = new double[batch, steps, units];
        for (int s = 0; s < batch; s++)
        {
            var h = new double[units];
            for (int t = 0; t < steps; t++)
            {
                var xt = Enumerable.Range(0, features).Select(i => x[s, t, i].item<double>()).ToArray();
                double Input(int col) => b[col] + Enumerable.Range(0, features).Sum(i => xt[i] * w[i, col]);
                double Recurrent(double[] v, int col) => Enumerable.Range(0, units).Sum(j => v[j] * u[j, col]);
                var z = new double[units];
                var r = new double[units];
                for (int j = 0; j < units; j++)
                {
                    z[j] = ReferenceActivations.Sigmoid(Input(j) + Recurrent(h, j));
                    r[j] = ReferenceActivations.Sigmoid(Input(units + j) + Recurrent(h, units + j));
                }
                var rh = Enumerable.Range(0, units).Select(j => r[j] * h[j]).ToArray();
                var next = new double[units];
                for (int j = 0; j < units; j++)
                {
                    double n = Math.Tanh(Input(2 * units + j) + Recurrent(rh, 2 * units + j));
                    next[j] = z[j] * h[j] + (1 - z[j]) * n;
                    expected[s, t, j] = next[j];
                }
                h = next;
            }
        }
        TensorAssert.Close(tensor(expected), layer.Call(x), atol: 1e-13, what: "reset_before output");
    }

    [Fact]
    public void Build_DefaultsAndWeightLayout_FollowKeras()
    {
        manual_seed(5);
        var layer = new GRU(32);
        layer.Build([10, 16]);
        Assert.Equal(new[] { new long[] { 16, 96 }, [32, 96], [2, 96] }, layer.Weights.Select(w => w.shape).ToArray());
        double limit = Math.Sqrt(6.0 / (16 + 96));
        Assert.True(layer.Weights[0].abs().max().item<float>() <= limit);
        TensorAssert.Close(eye(32), layer.Weights[1].matmul(layer.Weights[1].t()), atol: 1e-5, what: "U Uᵀ");
        Assert.Equal(0f, layer.Weights[2].abs().sum().item<float>());
        // Keras's parameter count: 3·u·(in + u) + 2·3·u.
        Assert.Equal(3 * 32 * (16 + 32) + 2 * 3 * 32, layer.CountParams());

        var before = new GRU(32, resetAfter: false);
        before.Build([10, 16]);
        Assert.Equal(new long[] { 96 }, before.Weights[2].shape);
        Assert.Equal(3 * 32 * (16 + 32) + 3 * 32, before.CountParams());
    }

    [Fact]
    public void Call_SwishActivation_FallsBackToOpByOp()
    {
        var layer = new GRU(3, activation: "swish", returnSequences: true);
        Assert.False(layer.Cell.CanFuse);
        Assert.Equal(new long[] { 2, 4, 3 }, layer.Call(randn(2, 4, 2)).shape);
    }

    [Fact]
    public void LayerHarness_ShapesWeightsConfigAndTraining()
    {
        LayerHarness.Run(new GRU(4, returnSequences: true), randn(3, 5, 2), [3, 5, 4], trainableWeights: 3, parameters: 3 * 4 * (2 + 4) + 2 * 3 * 4);
        LayerHarness.Run(new GRU(4, resetAfter: false, useBias: false), randn(3, 5, 2), [3, 4], trainableWeights: 2, parameters: 3 * 4 * 6);
    }

    [Fact]
    public void Call_WrongFeatureSize_ThrowsWithLayerName()
    {
        var layer = new GRU(4, name: "gru_enc");
        layer.Build([5, 3]);
        var e = Assert.Throws<ArgumentException>(() => layer.Call(zeros(2, 5, 7)));
        Assert.Contains("'gru_enc'", e.Message);
        Assert.Contains("[2, 5, 7]", e.Message);
    }

    private static double[,] Matrix(Tensor t)
    {
        var m = new double[t.shape[0], t.shape[1]];
        var values = t.contiguous().data<double>().ToArray();
        for (int i = 0; i < m.GetLength(0); i++)
            for (int j = 0; j < m.GetLength(1); j++)
                m[i, j] = values[i * m.GetLength(1) + j];
        return m;
    }
}
