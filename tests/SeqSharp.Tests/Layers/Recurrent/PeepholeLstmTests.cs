using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Layers.Recurrent;

public class PeepholeLstmTests(ITestOutputHelper output)
{
    /// <summary>
    /// The peephole LSTM of the design document in plain double loops (Keras gate order i, f, c, o;
    /// peephole rows i, f, o; diagonal weights):
    /// <code>
    /// z = x_t W + h_{t-1} U + b
    /// i = σ(z_i + p_i ⊙ c_{t-1})   f = σ(z_f + p_f ⊙ c_{t-1})   g = act(z_c)
    /// c_t = f ⊙ c_{t-1} + i ⊙ g    o = σ(z_o + p_o ⊙ c_t)       h_t = o ⊙ act(c_t)
    /// </code>
    /// Returns every h_t, (batch, steps, units) row-major, in processing order.
    /// </summary>
    private static double[] Reference(double[] x, int batch, int steps, int features, int units,
        double[] kernel, double[] recurrent, double[] bias, double[] peephole, string activation, string recurrentActivation, bool goBackwards)
    {
        var act = ReferenceActivations.ByName[activation];
        var sigma = ReferenceActivations.ByName[recurrentActivation];
        int g4 = 4 * units;
        var outputs = new double[batch * steps * units];
        for (int b = 0; b < batch; b++)
        {
            var h = new double[units];
            var c = new double[units];
            for (int t = 0; t < steps; t++)
            {
                int source = goBackwards ? steps - 1 - t : t;
                var z = new double[g4];
                for (int j = 0; j < g4; j++)
                {
                    double sum = bias[j];
                    for (int k = 0; k < features; k++)
                        sum += x[(b * steps + source) * features + k] * kernel[k * g4 + j];
                    for (int k = 0; k < units; k++)
                        sum += h[k] * recurrent[k * g4 + j];
                    z[j] = sum;
                }
                var hNext = new double[units];
                var cNext = new double[units];
                for (int j = 0; j < units; j++)
                {
                    double i = sigma(z[j] + peephole[j] * c[j]);
                    double f = sigma(z[units + j] + peephole[units + j] * c[j]);
                    double g = act(z[2 * units + j]);
                    cNext[j] = f * c[j] + i * g;
                    double o = sigma(z[3 * units + j] + peephole[2 * units + j] * cNext[j]);
                    hNext[j] = o * act(cNext[j]);
                }
                h = hNext;
                c = cNext;
                Array.Copy(h, 0, outputs, (b * steps + t) * units, units);
            }
        }
        return outputs;
    }

    private static double[] Values(Tensor t) => t.detach().contiguous().data<double>().ToArray();

    private static Tensor RunReference(LSTM layer, Tensor x)
    {
        var w = layer.Weights;
        int batch = (int)x.shape[0], steps = (int)x.shape[1], features = (int)x.shape[2];
        var peephole = layer.Cell.UsePeepholes ? Values(w[3]) : new double[3 * layer.Units];
        var all = Reference(Values(x), batch, steps, features, layer.Units, Values(w[0]), Values(w[1]), Values(w[2]), peephole,
            layer.Cell.Activation.Name, layer.Cell.RecurrentActivation.Name, layer.GoBackwards);
        var sequence = tensor(all, [batch, steps, layer.Units], ScalarType.Float64);
        return layer.ReturnSequences ? sequence : sequence.select(1, steps - 1);
    }

    /// <summary>A float64 peephole LSTM with every weight, bias and peephole non-zero.</summary>
    private static LSTM NewLayer(int seed, int steps, int features, int units, string activation = "tanh", string recurrentActivation = "sigmoid",
        bool returnSequences = true, bool goBackwards = false)
    {
        manual_seed(seed);
        var layer = new LSTM(units, activation: activation, recurrentActivation: recurrentActivation, usePeepholes: true,
            returnSequences: returnSequences, goBackwards: goBackwards, dtype: ScalarType.Float64);
        layer.Build([steps, features]);
        using (no_grad())
        {
            layer.Weights[2].uniform_(-0.5, 0.5);
            layer.Weights[3].uniform_(-1, 1);
        }
        return layer;
    }

    public static TheoryData<string, string, bool, bool> Configurations => new()
    {
        // activation, recurrentActivation, returnSequences, goBackwards
        { "tanh", "sigmoid", true, false },
        { "tanh", "sigmoid", false, false },
        { "tanh", "sigmoid", true, true },
        { "tanh", "sigmoid", false, true },
        { "tanh", "hard_sigmoid", true, false },
        { "relu", "sigmoid", true, true },
        { "softsign", "sigmoid", true, false },
        { "elu", "sigmoid", false, false },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Call_FusedAndOpByOp_MatchPlainReference(string activation, string recurrentActivation, bool returnSequences, bool goBackwards)
    {
        var layer = NewLayer(21, steps: 9, features: 3, units: 4, activation, recurrentActivation, returnSequences, goBackwards);
        var x = randn(3, 9, 3, dtype: ScalarType.Float64);
        var expected = RunReference(layer, x);

        layer.Implementation = RecurrentImplementation.Fused;
        double fused = TensorAssert.Close(expected, layer.Call(x), atol: 1e-12, what: "fused output");
        layer.Implementation = RecurrentImplementation.OpByOp;
        double plain = TensorAssert.Close(expected, layer.Call(x), atol: 1e-12, what: "op-by-op output");
        output.WriteLine($"Peephole LSTM {activation}/{recurrentActivation} seq={returnSequences} back={goBackwards} vs plain reference: fused {fused:E2}, op-by-op {plain:E2}");
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Backward_Fused_MatchesOpByOpAutograd(string activation, string recurrentActivation, bool returnSequences, bool goBackwards)
    {
        // hard_sigmoid: LibTorch's backward uses a float-rounded 1/6 even in float64 (3e-8 off), see GradientCheckTests.
        double rtol = recurrentActivation == "hard_sigmoid" ? 1e-6 : 1e-10;
        var layer = NewLayer(22, steps: 7, features: 3, units: 5, activation, recurrentActivation, returnSequences, goBackwards);
        var x = (0.5 * randn(2, 7, 3, dtype: ScalarType.Float64)).requires_grad_(true);
        Tensor[] wrt = [x, .. layer.Weights];

        layer.Implementation = RecurrentImplementation.Fused;
        var fused = layer.Call(x);
        var probe = randn_like(fused);
        var gFused = autograd.grad([(fused * probe).sum()], wrt);
        layer.Implementation = RecurrentImplementation.OpByOp;
        var gPlain = autograd.grad([(layer.Call(x) * probe).sum()], wrt);

        string[] names = ["input", "kernel", "recurrent kernel", "bias", "peephole"];
        Assert.Equal(names.Length, gPlain.Count);
        var diffs = new List<string>();
        for (int k = 0; k < gPlain.Count; k++)
        {
            Assert.True(gPlain[k].abs().max().item<double>() > 1e-3, $"The {names[k]} gradient is (nearly) zero: nothing is tested.");
            double d = TensorAssert.Close(gPlain[k], gFused[k], atol: 1e-12, rtol: rtol, what: $"{names[k]} gradient");
            diffs.Add($"{names[k]} {d:E2}");
        }
        output.WriteLine($"Peephole LSTM {activation}/{recurrentActivation} seq={returnSequences} back={goBackwards} gradients fused vs op-by-op: {string.Join(", ", diffs)}");
    }

    [Fact]
    public void Call_ZeroPeepholes_EqualsNativeLstmAndReference()
    {
        // Checks the plain reference itself against LibTorch: with zero peepholes it is the standard LSTM.
        var layer = NewLayer(23, steps: 6, features: 2, units: 3);
        using (no_grad())
            layer.Weights[3].zero_();
        var x = randn(2, 6, 2, dtype: ScalarType.Float64);
        var native = NativeModules.Lstm(layer).call(x).Item1;
        TensorAssert.Close(native, RunReference(layer, x), atol: 1e-12, what: "reference vs native");
        TensorAssert.Close(native, layer.Call(x), atol: 1e-12, what: "fused vs native");
    }

    [Fact]
    public void Call_Peepholes_ChangeTheOutput()
    {
        var layer = NewLayer(24, steps: 6, features: 2, units: 3);
        var x = randn(2, 6, 2, dtype: ScalarType.Float64);
        var with = layer.Call(x);
        using (no_grad())
            layer.Weights[3].zero_();
        Assert.True((with - layer.Call(x)).abs().max().item<double>() > 1e-3);
    }

    [Fact]
    public void Build_Peepholes_ThreeRowsFromKernelInitializer()
    {
        manual_seed(25);
        var layer = new LSTM(50, usePeepholes: true);
        layer.Build([4, 2]);
        Assert.Equal(4, layer.Weights.Count);
        var peephole = layer.Weights[3];
        Assert.Equal(new long[] { 3, 50 }, peephole.shape);
        // glorot_uniform on a (50) vector: fanIn = fanOut = 50, limit sqrt(6 / 100).
        double limit = Math.Sqrt(6.0 / 100);
        Assert.InRange(peephole.abs().max().item<float>(), 0.8 * limit, limit);
        Assert.False(peephole[0].allclose(peephole[1]), "The peephole rows are identical.");
        Assert.Equal(4 * (50 * (2 + 50) + 50) + 3 * 50, layer.CountParams());
    }
}
