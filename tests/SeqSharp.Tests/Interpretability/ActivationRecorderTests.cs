using SeqSharp.Interpretability;
using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Interpretability;

public class ActivationRecorderTests
{
    private const long Batch = 3, Steps = 6, Features = 2;

    /// <summary>Randomises every weight (biases and peepholes included) so that no term is zero.</summary>
    private static void Randomise(Sequential model)
    {
        using var _ = no_grad();
        foreach (var weight in model.Layers.SelectMany(l => l.Weights))
            weight.uniform_(-0.7, 0.7);
    }

    /// <summary>The recurrence index before t in processing order, or null at the first processed step.</summary>
    private static long? Previous(long t, bool goBackwards) => goBackwards ? (t + 1 < Steps ? t + 1 : null) : (t > 0 ? t - 1 : null);

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Record_Lstm_GatesRecomputeCellAndHiddenStates(bool usePeepholes, bool goBackwards)
    {
        manual_seed(11);
        var model = new Sequential([new LSTM(4, usePeepholes: usePeepholes, goBackwards: goBackwards, returnSequences: true,
            inputShape: [Steps, Features], dtype: ScalarType.Float64)]);
        Randomise(model);
        var x = randn(Batch, Steps, Features, dtype: ScalarType.Float64);

        var r = Assert.Single(ActivationRecorder.Record(model, x));
        Assert.Equal(["candidate", "forget", "input", "output"], r.Gates.Keys.Order());
        Assert.All(r.Gates.Values, g => Assert.Equal([Batch, Steps, 4L], g.shape));
        for (long t = 0; t < Steps; t++)
        {
            var cPrevious = Previous(t, goBackwards) is long p ? r.Cell!.select(1, p) : zeros(Batch, 4, dtype: ScalarType.Float64);
            var c = r.Gates["forget"].select(1, t) * cPrevious + r.Gates["input"].select(1, t) * r.Gates["candidate"].select(1, t);
            TensorAssert.Close(c, r.Cell!.select(1, t), atol: 1e-12, what: $"c at step {t}");
            TensorAssert.Close(r.Gates["output"].select(1, t) * tanh(c), r.Hidden.select(1, t), atol: 1e-12, what: $"h at step {t}");
        }
        // The layer's own output is in processing order; the recording in input order.
        var own = model.Layers[0].Call(x);
        TensorAssert.Close(own, goBackwards ? r.Hidden.flip(1) : r.Hidden, atol: 1e-12, what: "hidden vs layer output");
    }

    [Fact]
    public void Record_Lstm_GatesAreTheNamedBlocksOfTheFirstStep()
    {
        // At the first step h and c are zero, so each gate is its activation of its own block of x·W + b.
        manual_seed(12);
        var model = new Sequential([new LSTM(3, returnSequences: true, inputShape: [Steps, Features], dtype: ScalarType.Float64)]);
        Randomise(model);
        var x = randn(Batch, Steps, Features, dtype: ScalarType.Float64);
        var r = ActivationRecorder.Record(model, x)[0];
        var w = model.Layers[0].Weights;
        var blocks = (x.select(1, 0).matmul(w[0]) + w[2]).chunk(4, -1);
        TensorAssert.Close(sigmoid(blocks[0]), r.Gates["input"].select(1, 0), atol: 1e-12, what: "input gate");
        TensorAssert.Close(sigmoid(blocks[1]), r.Gates["forget"].select(1, 0), atol: 1e-12, what: "forget gate");
        TensorAssert.Close(tanh(blocks[2]), r.Gates["candidate"].select(1, 0), atol: 1e-12, what: "candidate");
        TensorAssert.Close(sigmoid(blocks[3]), r.Gates["output"].select(1, 0), atol: 1e-12, what: "output gate");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Record_Lstm_HiddenMatchesFusedPredict(bool returnSequences)
    {
        manual_seed(13);
        var model = new Sequential([new LSTM(5, returnSequences: returnSequences, inputShape: [Steps, Features])]);
        Randomise(model);
        var x = randn(Batch, Steps, Features);
        var r = ActivationRecorder.Record(model, x)[0];
        var predicted = model.Predict(x, verbose: 0);
        TensorAssert.Close(predicted, returnSequences ? r.Hidden : r.Hidden.select(1, Steps - 1), atol: 1e-5, what: "hidden vs Predict");
    }

    [Fact]
    public void Record_Lstm_MatchesNativeLstmStepByStep()
    {
        manual_seed(14);
        var model = new Sequential([new LSTM(4, returnSequences: true, inputShape: [Steps, Features])]);
        Randomise(model);
        var native = NativeModules.Lstm((LSTM)model.Layers[0]);
        var x = randn(Batch, Steps, Features);
        var r = ActivationRecorder.Record(model, x)[0];

        using var noGrad = no_grad();
        var h = zeros(1, Batch, 4);
        var c = zeros(1, Batch, 4);
        for (long t = 0; t < Steps; t++)
        {
            (_, h, c) = native.call(x.narrow(1, t, 1), (h, c));
            TensorAssert.Close(h[0], r.Hidden.select(1, t), atol: 1e-5, what: $"h at step {t}");
            TensorAssert.Close(c[0], r.Cell!.select(1, t), atol: 1e-5, what: $"c at step {t}");
        }
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void Record_Gru_GatesRecomputeHiddenStates(bool resetAfter, bool goBackwards)
    {
        manual_seed(15);
        var model = new Sequential([new GRU(4, resetAfter: resetAfter, goBackwards: goBackwards, returnSequences: true,
            inputShape: [Steps, Features], dtype: ScalarType.Float64)]);
        Randomise(model);
        var x = randn(Batch, Steps, Features, dtype: ScalarType.Float64);
        var r = ActivationRecorder.Record(model, x)[0];
        Assert.Null(r.Cell);
        Assert.Equal(["candidate", "reset", "update"], r.Gates.Keys.Order());
        for (long t = 0; t < Steps; t++)
        {
            var hPrevious = Previous(t, goBackwards) is long p ? r.Hidden.select(1, p) : zeros(Batch, 4, dtype: ScalarType.Float64);
            var z = r.Gates["update"].select(1, t);
            TensorAssert.Close(z * hPrevious + (1 - z) * r.Gates["candidate"].select(1, t), r.Hidden.select(1, t), atol: 1e-12, what: $"h at step {t}");
        }
        TensorAssert.Close(model.Layers[0].Call(x), goBackwards ? r.Hidden.flip(1) : r.Hidden, atol: 1e-12, what: "hidden vs layer output");
    }

    [Fact]
    public void Record_Gru_GatesAreTheNamedBlocksOfTheFirstStep()
    {
        // h_0 = 0: z = σ(x W_z + b_z + b'_z), r = σ(x W_r + b_r + b'_r), n = tanh(x W_h + b_h + r ⊙ b'_h).
        manual_seed(16);
        var model = new Sequential([new GRU(3, returnSequences: true, inputShape: [Steps, Features], dtype: ScalarType.Float64)]);
        Randomise(model);
        var x = randn(Batch, Steps, Features, dtype: ScalarType.Float64);
        var r = ActivationRecorder.Record(model, x)[0];
        var w = model.Layers[0].Weights;
        var xs = (x.select(1, 0).matmul(w[0]) + w[2][0]).chunk(3, -1);
        var bs = w[2][1].chunk(3, -1);
        var reset = sigmoid(xs[1] + bs[1]);
        TensorAssert.Close(sigmoid(xs[0] + bs[0]), r.Gates["update"].select(1, 0), atol: 1e-12, what: "update gate");
        TensorAssert.Close(reset, r.Gates["reset"].select(1, 0), atol: 1e-12, what: "reset gate");
        TensorAssert.Close(tanh(xs[2] + reset * bs[2]), r.Gates["candidate"].select(1, 0), atol: 1e-12, what: "candidate");
    }

    [Fact]
    public void Record_Gru_MatchesNativeGruAndFusedPredict()
    {
        manual_seed(17);
        var model = new Sequential([new GRU(4, returnSequences: true, inputShape: [Steps, Features])]);
        Randomise(model);
        var native = NativeModules.Gru((GRU)model.Layers[0]);
        var x = randn(Batch, Steps, Features);
        var r = ActivationRecorder.Record(model, x)[0];
        using var _ = no_grad();
        TensorAssert.Close(native.call(x).Item1, r.Hidden, atol: 1e-5, what: "hidden vs nn.GRU");
        TensorAssert.Close(model.Predict(x, verbose: 0), r.Hidden, atol: 1e-5, what: "hidden vs Predict");
    }

    [Fact]
    public void Record_SimpleRnn_HasHiddenOnlyAndMatchesNativeRnn()
    {
        manual_seed(18);
        var model = new Sequential([new SimpleRNN(4, returnSequences: true, inputShape: [Steps, Features])]);
        Randomise(model);
        var native = NativeModules.Rnn((SimpleRNN)model.Layers[0]);
        var x = randn(Batch, Steps, Features);
        var r = ActivationRecorder.Record(model, x)[0];
        Assert.Null(r.Cell);
        Assert.Empty(r.Gates);
        Assert.Equal("SimpleRNN", r.ClassName);
        using var _ = no_grad();
        TensorAssert.Close(native.call(x).Item1, r.Hidden, atol: 1e-5, what: "hidden vs nn.RNN");
        TensorAssert.Close(model.Predict(x, verbose: 0), r.Hidden, atol: 1e-5, what: "hidden vs Predict");
    }

    [Fact]
    public void Record_StackedModel_RecordsEachRecurrentLayerOnItsOwnInput()
    {
        manual_seed(19);
        var model = new Sequential([
            new LSTM(5, returnSequences: true, inputShape: [Steps, Features], name: "first"),
            new Dense(3, activation: "relu"),
            new GRU(4, name: "second"),
            new Dense(1),
        ]);
        Randomise(model);
        var x = randn(Batch, Steps, Features);
        var recordings = ActivationRecorder.Record(model, x);
        Assert.Equal([0, 2], recordings.Select(r => r.LayerIndex));
        Assert.Equal(["first", "second"], recordings.Select(r => r.LayerName));
        using var _ = no_grad();
        var intoGru = model.Layers[1].Call(model.Layers[0].Call(x));
        TensorAssert.Close(model.Layers[2].Call(intoGru), recordings[1].Hidden.select(1, Steps - 1), atol: 1e-5, what: "second layer's last hidden state");
    }

    [Fact]
    public void Record_Bidirectional_RecordsBothDirectionsInInputOrder()
    {
        manual_seed(20);
        var model = new Sequential([new Bidirectional(new LSTM(3, returnSequences: true), inputShape: [Steps, Features]), new Dense(1)]);
        Randomise(model);
        var bidirectional = (Bidirectional)model.Layers[0];
        var native = NativeModules.BidirectionalLstm(bidirectional);
        var x = randn(Batch, Steps, Features);

        var recordings = ActivationRecorder.Record(model, x);
        Assert.Equal(2, recordings.Count);
        Assert.Equal([bidirectional.ForwardLayer.Name, bidirectional.BackwardLayer.Name], recordings.Select(r => r.LayerName));
        Assert.All(recordings, r => Assert.Equal(0, r.LayerIndex));
        Assert.True(recordings[1].GoBackwards);
        using var _ = no_grad();
        // LibTorch's reverse direction is also reported in input order.
        TensorAssert.Close(native.call(x).Item1, cat([recordings[0].Hidden, recordings[1].Hidden], -1), atol: 1e-5, what: "vs bidirectional nn.LSTM");
    }

    [Fact]
    public void Record_StatefulLayer_StartsFromCarriedStatesAndLeavesThem()
    {
        manual_seed(21);
        var model = new Sequential([new LSTM(3, stateful: true, returnSequences: true, inputShape: [Steps, Features], batchSize: (int)Batch)]);
        Randomise(model);
        var layer = (LSTM)model.Layers[0];
        var (first, second) = (randn(Batch, Steps, Features), randn(Batch, Steps, Features));
        model.Predict(first, batchSize: (int)Batch, verbose: 0);
        var carried = layer.States!;

        var r = ActivationRecorder.Record(model, second)[0];
        TinyModels.AssertSameWeights(carried, layer.States!);
        TensorAssert.Close(model.Predict(second, batchSize: (int)Batch, verbose: 0), r.Hidden, atol: 1e-5, what: "hidden vs stateful Predict");
    }

    [Fact]
    public void Record_Array_SameAsTensor()
    {
        manual_seed(22);
        var model = new Sequential([new LSTM(3, returnSequences: true, inputShape: [2, 1])]);
        var array = new float[,,] { { { 0.5f }, { -1f } }, { { 2f }, { 0.25f } } };
        var fromArray = ActivationRecorder.Record(model, array)[0];
        var fromTensor = ActivationRecorder.Record(model, tensor(new[] { 0.5f, -1f, 2f, 0.25f }, [2, 2, 1]))[0];
        TensorAssert.Close(fromTensor.Hidden, fromArray.Hidden, atol: 0);
        TensorAssert.Close(fromTensor.Gates["forget"], fromArray.Gates["forget"], atol: 0);
    }

    [Fact]
    public void Record_LeavesModeAndWeightsUnchanged()
    {
        manual_seed(23);
        var model = new Sequential([new LSTM(3, inputShape: [Steps, Features]), new Dense(1)]);
        var before = model.GetWeights();
        model.train();
        ActivationRecorder.Record(model, randn(Batch, Steps, Features));
        Assert.True(model.training);
        Assert.All(model.Layers, l => Assert.True(l.training));
        TinyModels.AssertSameWeights(before, model.GetWeights());
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void Record_WrongFeatureCount_ThrowsWithExpectedAndReceived()
    {
        var model = new Sequential([new LSTM(3, inputShape: [Steps, Features])]);
        var e = Assert.Throws<ArgumentException>(() => ActivationRecorder.Record(model, randn(Batch, Steps, 5)));
        Assert.Contains("value 2", e.Message);
        Assert.Contains("[3, 6, 5]", e.Message);
        var rank = Assert.Throws<ArgumentException>(() => ActivationRecorder.Record(model, randn(Steps)));
        Assert.Contains("Received shape [6]", rank.Message);
    }

    [Fact]
    public void Record_MaskedSteps_ThrowNotSupported_UnmaskedPass()
    {
        var model = new Sequential([new Masking(0.0, inputShape: [Steps, Features]), new LSTM(3)]);
        var padded = randn(Batch, Steps, Features);
        padded[0, 0] = zeros(Features);
        var e = Assert.Throws<NotSupportedException>(() => ActivationRecorder.Record(model, padded));
        Assert.Contains("mask", e.Message);
        var full = randn(Batch, Steps, Features) + 10;
        var recordings = ActivationRecorder.Record(model, full);
        Assert.Single(recordings);
        var r = recordings[0];
        TensorAssert.Close(model.Predict(full, verbose: 0), r.Hidden.select(1, Steps - 1), atol: 1e-5);
    }
}
