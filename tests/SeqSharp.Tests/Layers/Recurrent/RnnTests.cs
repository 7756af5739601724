using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Layers.Recurrent;

/// <summary>
/// The loop over time shared by SimpleRNN, LSTM and GRU: returnState and initial states, dropout and
/// recurrent dropout, stateful calls, and Keras masking, against LibTorch's modules and
/// hand-written float64 references.
/// </summary>
public class RnnTests
{
    private static LSTM Lstm(int units, int features, int steps, bool returnSequences = false, bool goBackwards = false, bool stateful = false,
        double dropout = 0, double recurrentDropout = 0, long? seed = null, bool zeroOutputForMask = false, ScalarType? dtype = null)
    {
        var layer = new LSTM(units, returnSequences: returnSequences, goBackwards: goBackwards, stateful: stateful, dropout: dropout,
            recurrentDropout: recurrentDropout, seed: seed, zeroOutputForMask: zeroOutputForMask, dtype: dtype);
        layer.Build([steps, features]);
        using (no_grad())
            layer.Weights[2].uniform_(-0.5, 0.5);
        return layer;
    }

    // ---- returnState and initial states ----

    [Fact]
    public void CallWithState_Lstm_FinalStatesMatchNativeHnCn()
    {
        manual_seed(1);
        var layer = new LSTM(5, returnState: true, goBackwards: true);
        layer.Build([6, 3]);
        var native = NativeModules.Lstm(layer);
        var x = randn(4, 6, 3);
        var (output, states) = layer.CallWithState(x);
        var (_, h, c) = native.call(x.flip(1));
        Assert.Equal(2, states.Count);
        TensorAssert.Close(h[0], states[0], atol: 1e-6, what: "h");
        TensorAssert.Close(c[0], states[1], atol: 1e-6, what: "c");
        TensorAssert.Close(h[0], output, atol: 1e-6, what: "last output");
    }

    [Fact]
    public void CallWithState_GivenInitialStates_MatchNativeWithH0C0AndGru()
    {
        manual_seed(2);
        var lstm = new LSTM(4, returnSequences: true);
        lstm.Build([5, 2]);
        var x = randn(3, 5, 2);
        Tensor h0 = randn(3, 4), c0 = randn(3, 4);
        var (ours, _) = lstm.CallWithState(x, initialState: [h0, c0]);
        var (expected, _, _) = NativeModules.Lstm(lstm).call(x, (h0.unsqueeze(0), c0.unsqueeze(0)));
        TensorAssert.Close(expected, ours, atol: 1e-6, what: "LSTM from (h0, c0)");

        var gru = new GRU(4, returnSequences: true);
        gru.Build([5, 2]);
        var (gruOurs, gruStates) = gru.CallWithState(x, initialState: [h0]);
        var (gruExpected, hn) = NativeModules.Gru(gru).call(x, h0.unsqueeze(0));
        TensorAssert.Close(gruExpected, gruOurs, atol: 1e-6, what: "GRU from h0");
        TensorAssert.Close(hn[0], gruStates.Single(), atol: 1e-6, what: "GRU h_n");
    }

    [Fact]
    public void CallWithState_WrongInitialStates_ThrowsWithExpectedShapes()
    {
        var layer = new LSTM(4, name: "enc");
        var e = Assert.Throws<ArgumentException>(() => layer.CallWithState(zeros(3, 5, 2), initialState: [zeros(3, 4)]));
        Assert.Contains("'enc'", e.Message);
        Assert.Contains("2 initial state tensor(s) of shape [3, 4]", e.Message);
    }

    [Fact]
    public void Add_ReturnStateLayerToSequential_Refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new Sequential([new GRU(4, returnState: true, inputShape: [5, 2])]));
        Assert.Contains("returnState", e.Message);
    }

    // ---- dropout ----

    [Fact]
    public void Call_DropoutInInferenceMode_ChangesNothing()
    {
        manual_seed(3);
        var plain = Lstm(4, 3, 6, returnSequences: true);
        var dropped = new LSTM(4, returnSequences: true, dropout: 0.5, recurrentDropout: 0.5);
        dropped.Build([6, 3]);
        dropped.SetWeights(plain.GetWeights());
        var x = randn(2, 6, 3);
        TensorAssert.Close(plain.Call(x), dropped.Call(x), atol: 0, what: "eval-mode output");
    }

    [Fact]
    public void Call_InputDropoutInTraining_IsOneMaskPerSampleFixedOverTime()
    {
        manual_seed(4);
        const double rate = 0.4;
        var layer = Lstm(5, 6, 7, returnSequences: true, dropout: rate, seed: 99);
        var x = randn(3, 7, 6);
        layer.train();
        var ours = layer.Call(x);

        // The mask the layer draws: one (batch, features) mask from its own generator seeded with 99.
        var mask = Masks(99, rate, [1, 3, 6], [])[0][0];
        var (expected, _, _) = NativeModules.Lstm(layer).call(x * mask.unsqueeze(1));
        TensorAssert.Close(expected, ours, atol: 1e-6, what: "output with input dropout");
        Assert.Equal(ScalarType.Float32, ours.dtype);
    }

    [Fact]
    public void Call_InputDropout_DropsAboutRateAndRedrawsEveryCall()
    {
        var layer = new SimpleRNN(2, activation: "linear", useBias: false, dropout: 0.3, returnSequences: true);
        layer.Build([1, 4000]);
        using (no_grad())
        {
            layer.Weights[0].fill_(0);
            layer.Weights[0][.., 0].fill_(1);   // unit 0 sums the kept, rescaled inputs
            layer.Weights[1].zero_();
        }
        layer.train();
        var x = ones(1, 1, 4000);
        double first = layer.Call(x)[0, 0, 0].item<float>();
        double second = layer.Call(x)[0, 0, 0].item<float>();
        // E = 4000 (inverted dropout keeps the expectation), sd = sqrt(4000 · 0.3 / 0.7) ≈ 41.
        Assert.InRange(first, 4000 - 200, 4000 + 200);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Call_RecurrentDropoutSimpleRnn_MatchesHandWrittenReference()
    {
        manual_seed(5);
        const double rate = 0.5;
        var layer = new SimpleRNN(4, returnSequences: true, dropout: 0.25, recurrentDropout: rate, seed: 7, dtype: ScalarType.Float64);
        layer.Build([5, 3]);
        var x = randn(2, 5, 3, dtype: ScalarType.Float64);
        layer.train();
        var ours = layer.Call(x);

        var masks = Masks(7, 0.25, [1, 2, 3], [rate, 1, 2, 4], ScalarType.Float64);
        Tensor w = layer.Weights[0], u = layer.Weights[1], b = layer.Weights[2];
        var h = zeros(2, 4, dtype: ScalarType.Float64);
        var expected = new List<Tensor>();
        for (int t = 0; t < 5; t++)
        {
            h = (x[.., t] * masks[0][0]).matmul(w).add((h * masks[1][0]).matmul(u)).add(b).tanh();
            expected.Add(h);
        }
        TensorAssert.Close(stack(expected, 1), ours, atol: 1e-12, what: "SimpleRNN with recurrent dropout");
    }

    [Fact]
    public void Call_RecurrentDropoutLstm_UsesOneMaskPerGateLikeKeras()
    {
        manual_seed(6);
        var layer = Lstm(3, 2, 4, returnSequences: true, dropout: 0.3, recurrentDropout: 0.4, seed: 11, dtype: ScalarType.Float64);
        var x = randn(2, 4, 2, dtype: ScalarType.Float64);
        layer.train();
        var ours = layer.Call(x);

        // Keras's implementation=1: four input masks and four recurrent masks, one per gate i, f, c, o.
        var masks = Masks(11, 0.3, [4, 2, 2], [0.4, 4, 2, 3], ScalarType.Float64);
        var w = layer.Weights[0].chunk(4, 1);
        var u = layer.Weights[1].chunk(4, 1);
        var b = layer.Weights[2].chunk(4, 0);
        Tensor h = zeros(2, 3, dtype: ScalarType.Float64), c = zeros(2, 3, dtype: ScalarType.Float64);
        var expected = new List<Tensor>();
        for (int t = 0; t < 4; t++)
        {
            Tensor Gate(int g) => (x[.., t] * masks[0][g]).matmul(w[g]) + (h * masks[1][g]).matmul(u[g]) + b[g];
            var i = Gate(0).sigmoid();
            var f = Gate(1).sigmoid();
            c = f * c + i * Gate(2).tanh();
            h = Gate(3).sigmoid() * c.tanh();
            expected.Add(h);
        }
        TensorAssert.Close(stack(expected, 1), ours, atol: 1e-12, what: "LSTM with recurrent dropout");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Call_RecurrentDropoutGru_UsesOneMaskPerGateLikeKeras(bool resetAfter)
    {
        manual_seed(7);
        var layer = new GRU(3, returnSequences: true, dropout: 0.2, recurrentDropout: 0.5, seed: 12, resetAfter: resetAfter, dtype: ScalarType.Float64);
        layer.Build([4, 2]);
        using (no_grad())
            layer.Weights[2].uniform_(-0.5, 0.5);
        var x = randn(2, 4, 2, dtype: ScalarType.Float64);
        layer.train();
        var ours = layer.Call(x);

        var masks = Masks(12, 0.2, [3, 2, 2], [0.5, 3, 2, 3], ScalarType.Float64);
        var w = layer.Weights[0].chunk(3, 1);
        var u = layer.Weights[1].chunk(3, 1);
        var bIn = (resetAfter ? layer.Weights[2][0] : layer.Weights[2]).chunk(3, 0);
        var bRec = resetAfter ? layer.Weights[2][1].chunk(3, 0) : null;
        var h = zeros(2, 3, dtype: ScalarType.Float64);
        var expected = new List<Tensor>();
        for (int t = 0; t < 4; t++)
        {
            Tensor In(int g) => (x[.., t] * masks[0][g]).matmul(w[g]) + bIn[g];
            Tensor Rec(int g) => (h * masks[1][g]).matmul(u[g]) + (bRec is null ? 0 : bRec[g]);
            var z = (In(0) + Rec(0)).sigmoid();
            var r = (In(1) + Rec(1)).sigmoid();
            var n = resetAfter ? (In(2) + r * Rec(2)).tanh() : (In(2) + (r * h * masks[1][2]).matmul(u[2])).tanh();
            h = z * h + (1 - z) * n;
            expected.Add(h);
        }
        TensorAssert.Close(stack(expected, 1), ours, atol: 1e-12, what: $"GRU resetAfter={resetAfter} with recurrent dropout");
    }

    [Fact]
    public void Call_SameSeed_SameTrainingOutputs()
    {
        manual_seed(8);
        var a = Lstm(4, 3, 5, dropout: 0.5, recurrentDropout: 0.5, seed: 5);
        var b = new LSTM(4, dropout: 0.5, recurrentDropout: 0.5, seed: 5);
        b.Build([5, 3]);
        b.SetWeights(a.GetWeights());
        a.train();
        b.train();
        var x = randn(3, 5, 3);
        TensorAssert.Close(a.Call(x), b.Call(x), atol: 0, what: "seeded dropout");
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    public void Constructor_DropoutOutsideUnitInterval_Throws(double rate)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new GRU(3, recurrentDropout: rate));
        Assert.Contains($"recurrentDropout={rate}", e.Message);
    }

    // ---- stateful ----

    [Fact]
    public void Call_StatefulInTwoHalves_EqualsOneCallOnWholeSequence()
    {
        manual_seed(9);
        foreach (Rnn stateless in new Rnn[] { new LSTM(4, returnSequences: true), new GRU(4, returnSequences: true), new SimpleRNN(4, returnSequences: true) })
        {
            stateless.Build([8, 3]);
            var stateful = (Rnn)Layer.FromConfig(stateless.ClassName, WithKey(stateless.GetConfig(), "stateful", true));
            stateful.Build([4, 3]);
            stateful.SetWeights(stateless.GetWeights());
            var x = randn(2, 8, 3);
            var whole = stateless.Call(x);
            var halves = cat([stateful.Call(x[.., ..4]), stateful.Call(x[.., 4..])], 1);
            TensorAssert.Close(whole, halves, atol: 1e-6, what: $"{stateless.ClassName} stateful halves");
            Assert.Equal(2, stateful.BatchSize);
            Assert.All(stateful.States!, s => Assert.False(s.requires_grad));

            stateful.ResetStates();
            TensorAssert.Close(whole[.., ..4], stateful.Call(x[.., ..4]), atol: 1e-6, what: $"{stateless.ClassName} after ResetStates");
        }
    }

    [Fact]
    public void Call_StatefulOtherBatchSize_ThrowsWithAdvice()
    {
        var layer = new GRU(3, stateful: true, batchSize: 4, name: "sg");
        Assert.Equal(4, layer.BatchSize);
        var e = Assert.Throws<ArgumentException>(() => layer.Call(zeros(3, 5, 2)));
        Assert.Contains("'sg' is stateful with batch size 4", e.Message);
        Assert.Contains("Received a batch of 3", e.Message);
    }

    [Fact]
    public void Fit_StatefulModel_TrainsAndSequentialResetStatesZeroesStates()
    {
        manual_seed(10);
        var lstm = new LSTM(4, stateful: true, inputShape: [5, 2], batchSize: 3);
        var model = new Sequential([lstm, new Dense(1)]);
        model.Compile(optimizer: "adam", loss: "mse");
        var x = randn(6, 5, 2);
        var y = randn(6, 1);
        var history = model.Fit(x, y, batchSize: 3, epochs: 2, verbose: 0, shuffle: false);
        Assert.True(double.IsFinite(history["loss"][^1]));
        Assert.True(lstm.States![0].abs().sum().item<float>() > 0);
        model.ResetStates();
        Assert.All(lstm.States!, s => Assert.Equal(0f, s.abs().sum().item<float>()));
        Assert.Equal(new long?[] { 3, 5, 2 }, (long?[])lstm.GetConfig()["batch_input_shape"]!);
    }

    // ---- masking ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Call_MaskedSteps_CarryStatesAndRepeatPreviousOutputLikeKeras(bool goBackwards)
    {
        manual_seed(11);
        var layer = Lstm(4, 3, 6, returnSequences: true, goBackwards: goBackwards);
        var native = NativeModules.Lstm(layer);
        var x = randn(3, 6, 3);
        // Post-padding, pre-padding and a gap in the middle.
        var mask = tensor(new[,] { { true, true, true, true, false, false }, { false, false, true, true, true, true }, { true, false, true, true, false, true } });
        var ours = layer.CallWithMask(x, mask);
        Assert.Same(mask, ours.Mask);

        for (int s = 0; s < 3; s++)
        {
            // Reference: the native LSTM on the sample's unmasked steps only, in processing order.
            var keptSteps = Enumerable.Range(0, 6).Where(t => mask[s, t].item<bool>()).ToArray();
            if (goBackwards)
                Array.Reverse(keptSteps);
            var (valid, _, _) = native.call(x[s].index_select(0, tensor(keptSteps.Select(t => (long)t).ToArray())).unsqueeze(0));
            var processing = goBackwards ? Enumerable.Range(0, 6).Reverse().ToArray() : Enumerable.Range(0, 6).ToArray();
            var previous = zeros(4);
            int seen = 0;
            for (int p = 0; p < 6; p++)
            {
                var expected = mask[s, processing[p]].item<bool>() ? valid[0, seen++] : previous;
                TensorAssert.Close(expected, ours.Output[s, p], atol: 1e-6, what: $"sample {s} position {p}");
                previous = expected;
            }
        }
    }

    [Fact]
    public void Call_MaskedWithZeroOutputAndLastOutputOnly_FollowKeras()
    {
        manual_seed(12);
        var x = randn(2, 5, 3);
        var mask = tensor(new[,] { { true, true, true, false, false }, { false, true, true, true, true } });
        var zeroing = Lstm(4, 3, 5, returnSequences: true, zeroOutputForMask: true);
        var outputs = zeroing.CallWithMask(x, mask).Output;
        Assert.Equal(0f, outputs[0, 3].abs().sum().item<float>());
        Assert.Equal(0f, outputs[1, 0].abs().sum().item<float>());

        var last = new LSTM(4);
        last.Build([5, 3]);
        last.SetWeights(zeroing.GetWeights());
        var (lastOutput, lastMask) = last.CallWithMask(x, mask);
        Assert.Null(lastMask);
        var repeating = new LSTM(4, returnSequences: true);
        repeating.Build([5, 3]);
        repeating.SetWeights(zeroing.GetWeights());
        TensorAssert.Close(repeating.CallWithMask(x, mask).Output[.., 4], lastOutput, atol: 1e-6, what: "last output = last unmasked output");
    }

    [Fact]
    public void Call_Masked_InputGradientOfMaskedStepsIsZero()
    {
        manual_seed(13);
        var layer = new GRU(3);
        var x = randn(2, 4, 2).requires_grad_(true);
        var mask = tensor(new[,] { { true, true, false, true }, { false, true, true, true } });
        layer.CallWithMask(x, mask).Output.sum().backward();
        Assert.Equal(0f, x.grad![0, 2].abs().sum().item<float>());
        Assert.Equal(0f, x.grad[1, 0].abs().sum().item<float>());
        Assert.True(x.grad[0, 1].abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Call_MaskAllTrue_IsTheUnmaskedCallAndRealMaskRunsFused()
    {
        var layer = new SimpleRNN(3, returnSequences: true) { Implementation = RecurrentImplementation.Fused };
        var x = randn(2, 4, 2);
        TensorAssert.Close(layer.Call(x), layer.CallWithMask(x, ones(2, 4)).Output, atol: 0, what: "all-true mask");
        var mask = tensor(new[,] { { true, false, true, true }, { true, true, true, true } });
        var fused = layer.CallWithMask(x, mask).Output;
        layer.Implementation = RecurrentImplementation.OpByOp;
        TensorAssert.Close(layer.CallWithMask(x, mask).Output, fused, atol: 1e-6, what: "masked, fused vs op by op");
    }

    [Fact]
    public void LayerHarness_RecurrentOptionsRoundTripAndTrain()
    {
        LayerHarness.Run(new LSTM(3, dropout: 0.2, recurrentDropout: 0.3, seed: 4, returnSequences: true), randn(2, 4, 2), [2, 4, 3],
            trainableWeights: 3, parameters: 4 * 3 * (2 + 3) + 4 * 3);
        LayerHarness.Run(new SimpleRNN(3, dropout: 0.5, stateful: true, batchSize: 2, inputShape: [4, 2]), randn(2, 4, 2), [2, 3],
            trainableWeights: 3, parameters: 3 * (2 + 3) + 3);
    }

    /// <summary>
    /// The inverted-dropout masks a layer seeded with <paramref name="seed"/> draws: the input masks
    /// (shape <paramref name="inputShape"/>) then, when <paramref name="recurrent"/> gives
    /// <c>[rate, count, batch, units]</c>, the recurrent masks.
    /// </summary>
    private static Tensor[] Masks(long seed, double inputRate, long[] inputShape, double[] recurrent, ScalarType dtype = ScalarType.Float32)
    {
        var generator = new Generator((ulong)seed, CPU);
        Tensor Draw(double rate, long[] shape) => rand(shape, dtype: dtype, generator: generator).lt(1 - rate).to_type(dtype) / (1 - rate);
        var input = Draw(inputRate, inputShape);
        return recurrent.Length == 0 ? [input] : [input, Draw(recurrent[0], recurrent[1..].Select(d => (long)d).ToArray())];
    }

    private static Dictionary<string, object?> WithKey(Dictionary<string, object?> config, string key, object value)
    {
        config[key] = value;
        config.Remove("name");
        return config;
    }
}
