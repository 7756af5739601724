using System.Runtime.InteropServices;
using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Layers.Kernels;

/// <summary>
/// The fused kernels' hand-written backward-through-time against central finite differences of
/// their own forward, in float64: an independent check of every gradient the kernels return
/// (input, kernel, recurrent kernel, bias, peephole).
/// </summary>
[Collection(SeededCollection.Name)]
public class GradientCheckTests(ITestOutputHelper output)
{
    private const double Step = 1e-6;
    private const double MaxRelativeError = 1e-6;

    public static TheoryData<string, string, bool, bool, bool> LstmCases => new()
    {
        // activation, recurrentActivation, usePeepholes, returnSequences, goBackwards
        { "tanh", "sigmoid", false, true, false },
        { "tanh", "sigmoid", true, true, false },
        { "tanh", "sigmoid", true, false, true },
        { "tanh", "hard_sigmoid", false, true, false },
        { "tanh", "hard_sigmoid", true, true, false },
        { "relu", "sigmoid", false, true, false },
        { "relu", "sigmoid", true, false, false },
        { "softsign", "hard_sigmoid", false, true, false },
        { "softsign", "hard_sigmoid", true, true, true },
        { "elu", "sigmoid", false, true, false },
        { "elu", "sigmoid", true, true, false },
        { "selu", "softplus", false, true, false },
        { "linear", "sigmoid", true, true, false },
        { "exponential", "sigmoid", false, true, false },
    };

    [Theory]
    [MemberData(nameof(LstmCases))]
    public void Lstm_FusedGradients_MatchFiniteDifferences(string activation, string recurrentActivation, bool usePeepholes, bool returnSequences, bool goBackwards)
    {
        manual_seed(31);
        var layer = new LSTM(3, activation: activation, recurrentActivation: recurrentActivation, usePeepholes: usePeepholes,
            returnSequences: returnSequences, goBackwards: goBackwards, dtype: ScalarType.Float64);
        layer.Build([4, 3]);
        using (no_grad())
        {
            layer.Weights[2].uniform_(-0.5, 0.5);
            if (usePeepholes)
                layer.Weights[3].uniform_(-0.5, 0.5);
        }
        string[] names = usePeepholes ? ["input", "kernel", "recurrent kernel", "bias", "peephole"] : ["input", "kernel", "recurrent kernel", "bias"];
        string label = $"LSTM {activation}/{recurrentActivation} peepholes={usePeepholes} seq={returnSequences} back={goBackwards}";
        Check(layer, label, names);
    }

    public static TheoryData<string, bool> SimpleRnnCases => new()
    {
        // activation, useBias
        { "linear", true },
        { "relu", true },
        { "tanh", true },
        { "tanh", false },
        { "sigmoid", true },
        { "hard_sigmoid", true },
        { "elu", true },
        { "selu", true },
        { "softplus", true },
        { "softsign", true },
        { "exponential", true },
    };

    [Theory]
    [MemberData(nameof(SimpleRnnCases))]
    public void SimpleRnn_FusedGradients_MatchFiniteDifferences(string activation, bool useBias)
    {
        manual_seed(32);
        var layer = new SimpleRNN(3, activation: activation, useBias: useBias, returnSequences: true, dtype: ScalarType.Float64);
        layer.Build([4, 3]);
        using (no_grad())
        {
            if (useBias)
                layer.Weights[2].uniform_(-0.5, 0.5);
            if (activation == "exponential")
                layer.Weights[1].mul_(0.3);
        }
        string[] names = useBias ? ["input", "kernel", "recurrent kernel", "bias"] : ["input", "kernel", "recurrent kernel"];
        Check(layer, $"SimpleRNN {activation} bias={useBias}", names);
    }

    public static TheoryData<string, string, bool, bool, bool, bool> GruCases => new()
    {
        // activation, recurrentActivation, resetAfter, useBias, returnSequences, goBackwards
        { "tanh", "sigmoid", true, true, true, false },
        { "tanh", "sigmoid", true, true, false, true },
        { "tanh", "sigmoid", true, false, true, false },
        { "tanh", "sigmoid", false, true, true, false },
        { "tanh", "sigmoid", false, true, false, true },
        { "tanh", "sigmoid", false, false, true, false },
        { "relu", "hard_sigmoid", true, true, true, false },
        { "softsign", "hard_sigmoid", false, true, true, false },
        { "elu", "softplus", true, true, true, true },
        { "selu", "tanh", false, true, true, false },
    };

    [Theory]
    [MemberData(nameof(GruCases))]
    public void Gru_FusedGradients_MatchFiniteDifferences(string activation, string recurrentActivation, bool resetAfter, bool useBias, bool returnSequences, bool goBackwards)
    {
        manual_seed(34);
        var layer = new GRU(3, activation: activation, recurrentActivation: recurrentActivation, resetAfter: resetAfter, useBias: useBias,
            returnSequences: returnSequences, goBackwards: goBackwards, dtype: ScalarType.Float64);
        layer.Build([4, 3]);
        if (useBias)
        {
            using (no_grad())
                layer.Weights[2].uniform_(-0.5, 0.5);
        }
        string[] names = useBias ? ["input", "kernel", "recurrent kernel", "bias"] : ["input", "kernel", "recurrent kernel"];
        Check(layer, $"GRU {activation}/{recurrentActivation} resetAfter={resetAfter} bias={useBias} seq={returnSequences} back={goBackwards}", names);
    }

    [Fact]
    public void SimpleRnn_LastOutputOnlyAndBackwards_MatchFiniteDifferences()
    {
        manual_seed(33);
        var layer = new SimpleRNN(3, activation: "tanh", goBackwards: true, dtype: ScalarType.Float64);
        layer.Build([4, 3]);
        Check(layer, "SimpleRNN tanh last output, backwards", ["input", "kernel", "recurrent kernel", "bias"]);
    }

    /// <summary>
    /// Compares the fused kernel's gradients of <c>sum(output ⊙ probe)</c> with central differences.
    /// The relative error of a tensor is <c>max |analytic - numeric| / max(|analytic|, |numeric|)</c>.
    /// </summary>
    private void Check(Rnn layer, string label, string[] names)
    {
        layer.Implementation = RecurrentImplementation.Fused;
        var x = randn(2, 4, 3, dtype: ScalarType.Float64).requires_grad_(true);
        Tensor[] wrt = [x, .. layer.Weights];
        Assert.Equal(names.Length, wrt.Length);

        var y = layer.Call(x);
        var probe = randn_like(y);
        var analytic = autograd.grad([(y * probe).sum()], wrt);

        double Loss()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            return (layer.Call(x) * probe).sum().item<double>();
        }

        var report = new List<string>();
        for (int k = 0; k < wrt.Length; k++)
        {
            double[] numeric = FiniteDifferences(wrt[k], Loss);
            double[] exact = analytic[k].contiguous().data<double>().ToArray();
            double scale = Math.Max(exact.Max(Math.Abs), numeric.Max(Math.Abs));
            Assert.True(scale > 1e-3, $"{label}: the {names[k]} gradient is (nearly) zero, nothing is tested.");
            double worst = exact.Zip(numeric, (a, n) => Math.Abs(a - n)).Max();
            double relative = worst / scale;
            report.Add($"{names[k]} {relative:E1}");
            Assert.True(relative < MaxRelativeError,
                $"{label}: {names[k]} gradient differs from finite differences: max |difference| {worst:E3}, relative {relative:E3}.");
        }
        output.WriteLine($"{label}: relative error vs finite differences: {string.Join(", ", report)}");
    }

    /// <summary>Central differences of <paramref name="loss"/> with respect to each element of <paramref name="t"/>, changed in place.</summary>
    private static double[] FiniteDifferences(Tensor t, Func<double> loss)
    {
        Assert.True(t.is_contiguous() && t.dtype == ScalarType.Float64);
        var result = new double[t.numel()];
        for (int k = 0; k < result.Length; k++)
        {
            double original = Elements(t)[k];
            Elements(t)[k] = original + Step;
            double plus = loss();
            Elements(t)[k] = original - Step;
            double minus = loss();
            Elements(t)[k] = original;
            result[k] = (plus - minus) / (2 * Step);
        }
        return result;
    }

    private static Span<double> Elements(Tensor t) => MemoryMarshal.Cast<byte, double>(t.bytes);
}
