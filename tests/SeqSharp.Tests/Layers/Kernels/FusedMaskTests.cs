using System.Runtime.InteropServices;
using SeqSharp.Layers;
using SeqSharp.Layers.Kernels;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Layers.Kernels;

/// <summary>
/// Keras's padding masks and recurrent dropout inside the fused kernels: in float64 against the
/// op-by-op loop (the reference that the masking and dropout tests of <c>RnnTests</c> check against
/// Keras's equations), on one batch slice and on several, for outputs, final states and the
/// gradients of inputs, weights and initial states; and the kernels' gradients against central
/// finite differences with the masks fixed.
/// </summary>
[Collection(SeededCollection.Name)]
public class FusedMaskTests(ITestOutputHelper output)
{
    private const int Batch = 6, Steps = 7, Features = 3, Units = 4;

    /// <summary>Post-padding, pre-padding, gaps, nothing masked, everything masked, a single step kept.</summary>
    private static Tensor PaddingMask() => tensor(new[,]
    {
        { true, true, true, true, false, false, false },
        { false, false, false, true, true, true, true },
        { true, false, true, true, false, true, false },
        { true, true, true, true, true, true, true },
        { false, false, false, false, false, false, false },
        { false, false, true, false, false, false, false },
    });

    public static TheoryData<string, bool, bool, bool> MaskCases()
    {
        var cases = new TheoryData<string, bool, bool, bool>();
        foreach (var cell in new[] { "lstm", "lstm_peephole", "gru", "gru_before", "simple_rnn" })
        {
            // returnSequences, goBackwards, zeroOutputForMask
            cases.Add(cell, true, false, false);
            cases.Add(cell, true, true, false);
            cases.Add(cell, true, false, true);
            cases.Add(cell, true, true, true);
            cases.Add(cell, false, false, false);
            cases.Add(cell, false, true, true);
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(MaskCases))]
    public void Masked_FusedMatchesOpByOp_OutputsStatesAndGradients(string cell, bool returnSequences, bool goBackwards, bool zeroOutputForMask)
    {
        foreach (bool slices in new[] { false, true })
        {
            WithSlices(slices, () =>
            {
                manual_seed(41);
                var layer = Create(cell, returnSequences, goBackwards, zeroOutputForMask);
                var x = randn(Batch, Steps, Features, dtype: ScalarType.Float64);
                var initial = Enumerable.Range(0, layer.Cell.StateCount).Select(_ => 0.5 * randn(Batch, Units, dtype: ScalarType.Float64)).ToArray();
                string label = $"{cell} seq={returnSequences} back={goBackwards} zero={zeroOutputForMask} slices={slices}";
                CompareWithOpByOp(layer, x, PaddingMask(), initial, label);
            });
        }
    }

    [Theory]
    [InlineData("lstm", false)]
    [InlineData("lstm", true)]
    [InlineData("lstm_peephole", false)]
    [InlineData("gru", false)]
    [InlineData("gru", true)]
    [InlineData("gru_before", false)]
    [InlineData("gru_before", true)]
    [InlineData("simple_rnn", false)]
    [InlineData("simple_rnn", true)]
    public void RecurrentDropout_FusedMatchesOpByOpWithTheSameSeed(string cell, bool masked)
    {
        foreach (bool slices in new[] { false, true })
        {
            WithSlices(slices, () =>
            {
                manual_seed(42);
                var fused = Create(cell, returnSequences: true, goBackwards: false, zeroOutputForMask: false, dropout: 0.3, recurrentDropout: 0.4, seed: 9);
                var reference = Create(cell, returnSequences: true, goBackwards: false, zeroOutputForMask: false, dropout: 0.3, recurrentDropout: 0.4, seed: 9);
                reference.SetWeights(fused.GetWeights());
                fused.Implementation = RecurrentImplementation.Fused;
                reference.Implementation = RecurrentImplementation.OpByOp;
                fused.train();
                reference.train();
                var x = randn(Batch, Steps, Features, dtype: ScalarType.Float64);
                var mask = masked ? PaddingMask() : null;
                string label = $"{cell} recurrent dropout masked={masked} slices={slices}";
                for (int call = 0; call < 2; call++)
                {
                    // Two calls: each draws new masks, the same for both layers.
                    var (yFused, gFused) = ForwardAndGradients(fused, x, mask, null);
                    var (yPlain, gPlain) = ForwardAndGradients(reference, x, mask, null);
                    TensorAssert.Close(yPlain, yFused, atol: 1e-12, what: $"{label} call {call} output");
                    for (int k = 0; k < gPlain.Count; k++)
                        TensorAssert.Close(gPlain[k], gFused[k], atol: 1e-12, rtol: 1e-10, what: $"{label} call {call} gradient {k}");
                }
            });
        }
    }

    [Theory]
    [InlineData("lstm", true, false)]
    [InlineData("lstm", false, true)]
    [InlineData("lstm_peephole", true, true)]
    [InlineData("gru", true, false)]
    [InlineData("gru_before", false, true)]
    [InlineData("simple_rnn", true, true)]
    public void Masked_FusedGradients_MatchFiniteDifferences(string cell, bool returnSequences, bool goBackwards)
    {
        manual_seed(43);
        var layer = Create(cell, returnSequences, goBackwards, zeroOutputForMask: false);
        layer.Implementation = RecurrentImplementation.Fused;
        var mask = tensor(new[,] { { true, true, false, true, false }, { false, true, true, true, true }, { true, true, true, false, false } });
        var x = randn(3, 5, Features, dtype: ScalarType.Float64).requires_grad_(true);
        Tensor[] wrt = [x, .. layer.Weights];
        var y = layer.CallWithMask(x, mask).Output;
        var probe = randn_like(y);
        var analytic = autograd.grad([(y * probe).sum()], wrt);
        CheckFiniteDifferences(wrt, analytic, () => (layer.CallWithMask(x, mask).Output * probe).sum().item<double>(),
            $"{cell} masked seq={returnSequences} back={goBackwards}");
    }

    [Theory]
    [InlineData("lstm", false)]
    [InlineData("lstm", true)]
    [InlineData("lstm_peephole", true)]
    [InlineData("gru", false)]
    [InlineData("gru", true)]
    [InlineData("gru_before", false)]
    [InlineData("gru_before", true)]
    [InlineData("simple_rnn", true)]
    public void RecurrentDropout_KernelGradients_MatchFiniteDifferences(string cell, bool masked)
    {
        manual_seed(44);
        var layer = Create(cell, returnSequences: true, goBackwards: false, zeroOutputForMask: false);
        int gates = layer.Cell is LstmCell ? 4 : layer.Cell is GruCell ? 3 : 1;
        long batch = 3, steps = 5;
        var x = randn(batch, steps, Features, dtype: ScalarType.Float64).requires_grad_(true);
        var h0 = (0.5 * randn(batch, Units, dtype: ScalarType.Float64)).requires_grad_(true);
        var states = layer.Cell.StateCount == 2 ? new[] { h0, (0.5 * randn(batch, Units, dtype: ScalarType.Float64)).requires_grad_(true) } : new[] { h0 };
        // Fixed inverted-dropout masks, as Keras draws them: per gate, for the input and the state.
        var inputMasks = rand(gates, batch, Features, dtype: ScalarType.Float64).lt(0.7).to_type(ScalarType.Float64) / 0.7;
        var recurrentMasks = rand(gates, batch, Units, dtype: ScalarType.Float64).lt(0.6).to_type(ScalarType.Float64) / 0.6;
        var mask = masked ? StepMask.From(tensor(new[,] { { true, true, false, true, false }, { false, true, true, true, true }, { true, true, true, false, false } })) : null;
        var extras = new RecurrentExtras(mask, inputMasks, recurrentMasks);
        Tensor[] wrt = [x, .. layer.Weights, .. states];
        Tensor Loss(Tensor[] probes)
        {
            var (sequence, final) = layer.Cell.RunFused(x, states, extras);
            var loss = (sequence * probes[0]).sum();
            for (int k = 0; k < final.Length; k++)
                loss = loss + (final[k] * probes[k + 1]).sum();
            return loss;
        }
        var (seq0, final0) = layer.Cell.RunFused(x, states, extras);
        var probes = new[] { randn_like(seq0) }.Concat(final0.Select(f => randn_like(f))).ToArray();
        var analytic = autograd.grad([Loss(probes)], wrt);
        CheckFiniteDifferences(wrt, analytic, () => Loss(probes).item<double>(), $"{cell} recurrent dropout kernel masked={masked}");
    }

    /// <summary>The layer under test, float64, built, with a random bias (and peepholes) so that no gradient is trivially zero.</summary>
    private static Rnn Create(string cell, bool returnSequences, bool goBackwards, bool zeroOutputForMask,
        double dropout = 0, double recurrentDropout = 0, long? seed = null)
    {
        Rnn layer = cell switch
        {
            "lstm" or "lstm_peephole" => new LSTM(Units, returnSequences: returnSequences, goBackwards: goBackwards, zeroOutputForMask: zeroOutputForMask,
                usePeepholes: cell == "lstm_peephole", dropout: dropout, recurrentDropout: recurrentDropout, seed: seed, dtype: ScalarType.Float64),
            "gru" or "gru_before" => new GRU(Units, returnSequences: returnSequences, goBackwards: goBackwards, zeroOutputForMask: zeroOutputForMask,
                resetAfter: cell == "gru", dropout: dropout, recurrentDropout: recurrentDropout, seed: seed, dtype: ScalarType.Float64),
            _ => new SimpleRNN(Units, returnSequences: returnSequences, goBackwards: goBackwards, zeroOutputForMask: zeroOutputForMask,
                dropout: dropout, recurrentDropout: recurrentDropout, seed: seed, dtype: ScalarType.Float64),
        };
        layer.Build([Steps, Features]);
        using (no_grad())
        {
            foreach (var w in layer.Weights.Skip(2))
                w.uniform_(-0.5, 0.5);
        }
        return layer;
    }

    private static void CompareWithOpByOp(Rnn layer, Tensor x, Tensor mask, Tensor[] initial, string label)
    {
        layer.Implementation = RecurrentImplementation.Fused;
        var (yFused, gFused) = ForwardAndGradients(layer, x, mask, initial);
        layer.Implementation = RecurrentImplementation.OpByOp;
        var (yPlain, gPlain) = ForwardAndGradients(layer, x, mask, initial);
        TensorAssert.Close(yPlain, yFused, atol: 1e-12, what: $"{label}: output and final states");
        for (int k = 0; k < gPlain.Count; k++)
            TensorAssert.Close(gPlain[k], gFused[k], atol: 1e-12, rtol: 1e-10, what: $"{label}: gradient {k}");

        // Inference (no autograd node; LSTM's chunked inference loop).
        using (no_grad())
        {
            layer.Implementation = RecurrentImplementation.Fused;
            var (fused, fusedStates) = layer.CallWithState(x, mask, initial);
            layer.Implementation = RecurrentImplementation.OpByOp;
            var (plain, plainStates) = layer.CallWithState(x, mask, initial);
            TensorAssert.Close(plain, fused, atol: 1e-12, what: $"{label}: inference output");
            for (int k = 0; k < plainStates.Count; k++)
                TensorAssert.Close(plainStates[k], fusedStates[k], atol: 1e-12, what: $"{label}: inference state {k}");
        }
    }

    /// <summary>
    /// The output and final states (flattened into one tensor) and the gradients of a fixed random
    /// projection of them with respect to the input, the weights and the initial states.
    /// </summary>
    private static (Tensor Values, IList<Tensor> Gradients) ForwardAndGradients(Rnn layer, Tensor x, Tensor? mask, Tensor[]? initial)
    {
        var input = x.clone().requires_grad_(true);
        var starts = initial?.Select(s => s.clone().requires_grad_(true)).ToArray();
        var (y, states) = layer.CallWithState(input, mask, starts);
        var values = cat([y.flatten(), .. states.Select(s => s.flatten())]);
        var probe = randn(values.shape, dtype: values.dtype, generator: new Generator(7, CPU));
        Tensor[] wrt = [input, .. layer.Weights, .. starts ?? []];
        var gradients = autograd.grad([(values * probe).sum()], wrt);
        return (values.detach(), gradients);
    }

    private void CheckFiniteDifferences(Tensor[] wrt, IList<Tensor> analytic, Func<double> loss, string label)
    {
        double Loss()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            return loss();
        }
        var report = new List<string>();
        for (int k = 0; k < wrt.Length; k++)
        {
            var t = wrt[k];
            Assert.True(t.is_contiguous() && t.dtype == ScalarType.Float64);
            var numeric = new double[t.numel()];
            for (int i = 0; i < numeric.Length; i++)
            {
                var elements = MemoryMarshal.Cast<byte, double>(t.bytes);
                double original = elements[i];
                elements[i] = original + 1e-6;
                double plus = Loss();
                MemoryMarshal.Cast<byte, double>(t.bytes)[i] = original - 1e-6;
                double minus = Loss();
                MemoryMarshal.Cast<byte, double>(t.bytes)[i] = original;
                numeric[i] = (plus - minus) / 2e-6;
            }
            double[] exact = analytic[k].contiguous().data<double>().ToArray();
            double scale = Math.Max(exact.Max(Math.Abs), numeric.Max(Math.Abs));
            Assert.True(scale > 1e-3, $"{label}: gradient {k} is (nearly) zero, nothing is tested.");
            double relative = exact.Zip(numeric, (a, n) => Math.Abs(a - n)).Max() / scale;
            report.Add($"{k}: {relative:E1}");
            Assert.True(relative < 1e-6, $"{label}: gradient {k} differs from finite differences by {relative:E3} (relative).");
        }
        output.WriteLine($"{label}: relative error vs finite differences: {string.Join(", ", report)}");
    }

    /// <summary>Runs <paramref name="body"/> on one batch slice, or with the work threshold lowered so that the batch is split.</summary>
    private static void WithSlices(bool several, Action body)
    {
        long previous = BatchParallel.MinimumWork;
        BatchParallel.MinimumWork = several ? 0 : long.MaxValue;
        try
        {
            Assert.True(!several || BatchParallel.Slices(Batch, 1) > 1 || get_num_threads() == 1, "the split path is not taken");
            body();
        }
        finally
        {
            BatchParallel.MinimumWork = previous;
        }
    }
}
