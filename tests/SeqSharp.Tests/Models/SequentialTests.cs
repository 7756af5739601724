using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;
using Embedding = SeqSharp.Layers.Embedding;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Models;

public class SequentialTests(ITestOutputHelper output)
{
    /// <summary>LSTM(8, returnSequences) → Dense(1) on (5, 3) inputs, with non-zero biases.</summary>
    private static Sequential LstmDense(int seed, bool returnSequences = true)
    {
        manual_seed(seed);
        var model = new Sequential();
        model.Add(new LSTM(8, inputShape: [5, 3], returnSequences: returnSequences));
        model.Add(new Dense(1));
        using (no_grad())
        {
            model.Layers[0].Weights[2].uniform_(-0.5, 0.5);
            model.Layers[1].Weights[1].uniform_(-0.5, 0.5);
        }
        return model;
    }

    /// <summary>Passes its input through and records the training flag it saw.</summary>
    private sealed class ModeProbe() : Layer(null, null, null)
    {
        public List<bool> Seen { get; } = [];
        public override InputSpec InputSpec => new(MinRank: 2);
        protected override void BuildCore(long[] sampleShape) { }
        public override long[] ComputeOutputShape(long[] sampleShape) => sampleShape;
        public override Tensor forward(Tensor x)
        {
            Seen.Add(training);
            return x.alias();
        }
    }

    [Fact]
    public void Add_WithInputShape_BuildsImmediatelyAndInfersShapes()
    {
        var model = new Sequential();
        model.Add(new LSTM(8, inputShape: [10, 1], returnSequences: true));
        Assert.True(model.Layers[0].Built);
        Assert.True(model.Built);
        model.Add(new Dense(1));
        Assert.True(model.Layers[1].Built);
        Assert.Equal(new long[] { 10, 1 }, model.InputShape);
        Assert.Equal(new long[] { 10, 8 }, model.Layers[1].BuiltInputShape);
        Assert.Equal(new long[] { 10, 1 }, model.OutputShape);
        Assert.Equal(new long[] { 8, 1 }, model.Layers[1].Weights[0].shape);
    }

    [Fact]
    public void Add_MisfitLayer_ThrowsAndLeavesModelUnchanged()
    {
        var model = new Sequential();
        model.Add(new LSTM(8, inputShape: [10, 1], name: "encoder"));
        long parameters = model.CountParams();
        var misfit = new LSTM(4, name: "decoder");
        var e = Assert.Throws<ArgumentException>(() => model.Add(misfit));
        Assert.Contains("'decoder'", e.Message);
        Assert.Contains("expected rank 3, found rank 2", e.Message);
        Assert.Single(model.Layers);
        Assert.False(misfit.Built);
        Assert.Equal(parameters, model.CountParams());
        Assert.Equal(new long[] { 8 }, model.OutputShape);

        // The model still works and accepts a layer that fits, even under the refused layer's name.
        model.Add(new Dense(2, name: "decoder"));
        Assert.Equal(new long[] { 3, 2 }, model.Predict(randn(3, 10, 1)).shape);
    }

    [Fact]
    public void Build_MisfitLayerWithoutInputShape_ThrowsBeforeBuildingAnyLayer()
    {
        var model = new Sequential();
        model.Add(new LSTM(8));
        model.Add(new LSTM(4, name: "second"));
        var e = Assert.Throws<ArgumentException>(() => model.Predict(randn(2, 5, 3)));
        Assert.Contains("'second'", e.Message);
        Assert.All(model.Layers, l => Assert.False(l.Built));
    }

    [Fact]
    public void Add_DuplicateName_Refused()
    {
        var model = new Sequential();
        var dense = new Dense(4, inputShape: [3], name: "d");
        model.Add(dense);
        var e = Assert.Throws<ArgumentException>(() => model.Add(new Dense(2, name: "d")));
        Assert.Contains("unique names", e.Message);
        Assert.Contains("'d'", e.Message);
        Assert.Throws<ArgumentException>(() => model.Add(dense));
        Assert.Single(model.Layers);
    }

    [Fact]
    public void Add_NonFirstLayerDeclaringInputShape_IgnoredAsKerasDoes()
    {
        var model = new Sequential();
        model.Add(new Dense(4, inputShape: [3]));
        model.Add(new Dense(2, inputShape: [99], name: "late"));
        Assert.Equal(2, model.Layers.Count);
        Assert.Equal(new long[] { 4 }, model.Layers[1].BuiltInputShape);
        Assert.Equal(new long[] { 5, 2 }, model.Predict(randn(5, 3), verbose: 0).shape);
    }

    [Fact]
    public void Layers_LeaveOutTheInputLayer_SummaryToo()
    {
        var model = new Sequential([new InputLayer([5, 3], name: "in"), new LSTM(4, name: "rnn"), new Dense(2, name: "head")]);
        Assert.Equal(["rnn", "head"], model.Layers.Select(l => l.Name));
        Assert.Same(model.Layers[1], model.GetLayer("head"));
        Assert.Same(model.Layers[0], model.GetLayer(0));
        Assert.DoesNotContain("InputLayer", model.SummaryText());
        Assert.Contains("No such layer: nope. Existing layers are: [rnn, head]", Assert.Throws<ArgumentException>(() => model.GetLayer("nope")).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.GetLayer(2));
    }

    [Fact]
    public void Pop_RemovesTheLastLayer_ModelPredictsWithTheRest()
    {
        manual_seed(8);
        var model = new Sequential([new LSTM(4, inputShape: [5, 3], name: "rnn"), new Dense(2, name: "head")]);
        var x = randn(6, 5, 3);
        var hidden = model.Layers[0].Call(x);

        var popped = model.Pop();

        Assert.Equal("head", popped.Name);
        Assert.Equal(["rnn"], model.Layers.Select(l => l.Name));
        Assert.Equal(new long[] { 4 }, model.OutputShape);
        Assert.True(hidden.allclose(model.Predict(x, verbose: 0), rtol: 0, atol: 1e-6));
        Assert.Equal(3, model.parameters().Count());   // the head's weights left with it
        model.Add(new Dense(1, name: "head2"));
        Assert.Equal(new long[] { 6, 1 }, model.Predict(x, verbose: 0).shape);
        model.Pop();
        model.Pop();
        Assert.Throws<InvalidOperationException>(() => model.Pop());
    }

    [Fact]
    public void ToJson_FromJson_SameArchitectureAndCompileSettings()
    {
        var model = new Sequential([new InputLayer([7, 2], name: "in"), new GRU(3, name: "g"), new Dense(1, name: "out")]);
        model.Compile(optimizer: "adam", loss: "mse", metrics: new[] { "mae" });

        string json = model.ToJson();
        var again = Sequential.FromJson(json);

        Assert.Equal("Sequential", System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("class_name").GetString());
        Assert.Equal(["g", "out"], again.Layers.Select(l => l.Name));
        Assert.Equal(model.OutputShape, again.OutputShape);
        Assert.Equal("adam", again.Optimizer!.Name);
        Assert.Equal(["mae"], again.Metrics.Select(m => m.Name));
        again.SetWeights(model.GetWeights());
        var x = randn(4, 7, 2);
        Assert.True(model.Predict(x, verbose: 0).allclose(again.Predict(x, verbose: 0), rtol: 0, atol: 0));
        Assert.Equal(json, again.ToJson());
        Assert.Throws<InvalidDataException>(() => Sequential.FromJson("{\"class_name\": \"Functional\"}"));
    }

    [Fact]
    public void Compile_MetricNamesHeldInVariables_Accepted()
    {
        var model = new Sequential([new Dense(1, inputShape: [3])]);
        var fromConfig = new List<string> { "mae", "mse" };
        model.Compile(optimizer: "sgd", loss: "mse", metrics: fromConfig);
        Assert.Equal(["mae", "mse"], model.Metrics.Select(m => m.Name));
        model.Compile(optimizer: "sgd", loss: "mse", metrics: new[] { "mae" });
        Assert.Equal(["mae"], model.Metrics.Select(m => m.Name));
        Assert.Contains("Int32 at position 0", Assert.Throws<ArgumentException>(() => model.Compile(loss: "mse", metrics: new object[] { 3 })).Message);
    }

    [Fact]
    public void Add_InputLayerFirst_BuildsFollowingLayers()
    {
        var model = new Sequential();
        model.Add(new InputLayer([5, 3]));
        model.Add(new LSTM(4));
        model.Add(new Dense(2));
        Assert.True(model.Built);
        Assert.Equal(new long[] { 5, 3 }, model.Layers[0].BuiltInputShape);
        Assert.Equal(new long[] { 2 }, model.OutputShape);
        Assert.Equal(4 * (4 * (3 + 4) + 4) + 4 * 2 + 2, model.CountParams());
        Assert.Equal(new long[] { 6, 2 }, model.Predict(randn(6, 5, 3)).shape);
        Assert.Throws<ArgumentException>(() => model.Predict(randn(6, 4, 3)));
    }

    [Fact]
    public void Predict_ModelWithoutInputShape_BuildsFromFirstInput()
    {
        var model = new Sequential([new LSTM(4), new Dense(1)]);
        Assert.False(model.Built);
        Assert.Null(model.OutputShape);
        var y = model.Predict(randn(3, 6, 2));
        Assert.True(model.Built);
        Assert.Equal(new long[] { 6, 2 }, model.Layers[0].BuiltInputShape);
        Assert.Equal(new long[] { 3, 1 }, y.shape);
        // Built for 2 features from now on.
        Assert.Throws<ArgumentException>(() => model.Predict(randn(3, 6, 5)));
    }

    [Fact]
    public void Predict_MatchesNativeModulesChained()
    {
        var model = LstmDense(40);
        var lstm = NativeModules.Lstm((LSTM)model.Layers[0]);
        var linear = NativeModules.Linear((Dense)model.Layers[1]);
        var x = randn(10, 5, 3);
        var expected = linear.call(lstm.call(x).Item1);
        double diff = TensorAssert.Close(expected, model.Predict(x), atol: 1e-5, what: "prediction");
        output.WriteLine($"Sequential LSTM(8) → Dense(1) Predict vs native nn.LSTM → nn.Linear: max |diff| {diff:E2}");
    }

    [Fact]
    public void Predict_TensorFloatAndDoubleArrays_SameValues()
    {
        var model = LstmDense(41);
        var floats = new float[4, 5, 3];
        var doubles = new double[4, 5, 3];
        var random = new Random(7);
        for (int i = 0; i < 4; i++)
            for (int t = 0; t < 5; t++)
                for (int f = 0; f < 3; f++)
                    doubles[i, t, f] = floats[i, t, f] = (float)(random.NextDouble() * 2 - 1);
        var flat = floats.Cast<float>().ToArray();
        var fromTensor = model.Predict(tensor(flat, [4, 5, 3]));
        Assert.Equal(ScalarType.Float32, fromTensor.dtype);
        Assert.Equal(new long[] { 4, 5, 1 }, fromTensor.shape);
        TensorAssert.Close(fromTensor, model.Predict(floats), atol: 0, what: "float[,,]");
        TensorAssert.Close(fromTensor, model.Predict(doubles), atol: 0, what: "double[,,]");
        // Sample 2 alone, taken from the array by hand: the array's layout is (samples, timesteps, features).
        var sample = Enumerable.Range(0, 15).Select(k => floats[2, k / 3, k % 3]).ToArray();
        TensorAssert.Close(fromTensor[2..3], model.Predict(tensor(sample, [1, 5, 3])), atol: 1e-6, what: "sample 2");
    }

    [Fact]
    public void Predict_BatchSizes_MatchOneCallUnderNoGrad()
    {
        var model = LstmDense(42);
        var x = randn(1000, 5, 3);
        Tensor expected;
        using (no_grad())
            expected = model.Call(x);
        // Batch size 1 on the first 100 samples only: a thousand single-sample calls would dominate the suite's time.
        foreach (var (samples, batchSize) in new[] { (100, 1), (1000, 3), (1000, 32), (1000, 1000), (1000, 4096) })
        {
            var y = model.Predict(x[..samples], batchSize);
            Assert.False(y.requires_grad);
            TensorAssert.Close(expected[..samples], y, atol: 1e-6, what: $"batchSize {batchSize}");
        }
    }

    [Fact]
    public void Predict_RunsInInferenceModeAndRestoresTrainingMode()
    {
        var probe = new ModeProbe();
        var model = new Sequential([new Dense(3, inputShape: [4]), probe]);
        model.train();
        model.Predict(randn(5, 4));
        Assert.True(model.training);
        Assert.True(probe.training);
        model.Call(randn(5, 4));
        model.eval();
        model.Predict(randn(5, 4));
        Assert.False(model.training);
        Assert.Equal(new[] { false, true, false }, probe.Seen);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Predict_NonPositiveBatchSize_Throws(int batchSize)
    {
        var model = LstmDense(43);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Predict(randn(2, 5, 3), batchSize));
        Assert.Contains($"batchSize={batchSize}", e.Message);
    }

    [Fact]
    public void Predict_ZeroSamples_Throws()
    {
        var model = LstmDense(44);
        Assert.Contains("at least one sample", Assert.Throws<ArgumentException>(() => model.Predict(zeros(0, 5, 3))).Message);
        Assert.Contains("at least one sample", Assert.Throws<ArgumentException>(() => model.Predict(new float[0, 5, 3])).Message);
    }

    [Fact]
    public void Predict_RaggedJaggedArray_RefusedWithPointerToPadSequences()
    {
        var model = LstmDense(45);
        float[][][] ragged = [[[1, 2, 3], [4, 5, 6]], [[1, 2, 3]]];
        var e = Assert.Throws<ArgumentException>(() => model.Predict(ragged));
        Assert.Contains("ragged", e.Message);
        Assert.Contains("row 1 has 1 elements but row 0 has 2", e.Message);
        Assert.Contains("Utils.PadSequences", e.Message);
        Assert.Contains("expected axis -1", Assert.Throws<ArgumentException>(() => model.Predict(new int[2, 5, 4])).Message);
    }

    [Fact]
    public void Predict_WrongFeatureSize_ThrowsWithFirstLayerName()
    {
        var model = new Sequential([new LSTM(4, inputShape: [5, 3], name: "first"), new Dense(1)]);
        var e = Assert.Throws<ArgumentException>(() => model.Predict(randn(2, 5, 4)));
        Assert.Contains("'first'", e.Message);
        Assert.Contains("[2, 5, 4]", e.Message);
    }

    [Fact]
    public void GetWeights_LayerByLayerInKerasOrder()
    {
        var model = new Sequential([new LSTM(4, inputShape: [3, 2]), new Dense(1)]);
        var weights = model.GetWeights();
        Assert.Equal(new[] { new long[] { 2, 16 }, [4, 16], [16], [4, 1], [1] }, weights.Select(w => w.shape).ToArray());
        var own = model.Layers.SelectMany(l => l.Weights).ToList();
        for (int k = 0; k < own.Count; k++)
            Assert.True(own[k].allclose(weights[k], rtol: 0, atol: 0), $"Weight {k} is not the layer's.");
    }

    [Fact]
    public void SetWeights_RoundTripBetweenTwoModels_SamePredictions()
    {
        var a = LstmDense(46);
        var b = LstmDense(47);
        var x = randn(3, 5, 3);
        Assert.False(a.Predict(x).allclose(b.Predict(x)));
        b.SetWeights(a.GetWeights());
        TensorAssert.Close(a.Predict(x), b.Predict(x), atol: 0, what: "predictions");
    }

    [Fact]
    public void SetWeights_WrongCountOrShape_ThrowsAndChangesNothing()
    {
        var model = LstmDense(48);
        var before = model.GetWeights();
        var e = Assert.Throws<ArgumentException>(() => model.SetWeights(before.Take(4).ToList()));
        Assert.Contains("expects 5", e.Message);

        // Every tensor right except the last: nothing may be written, not even the first layer's.
        var replacement = before.Select(w => ones_like(w)).ToList();
        replacement[4] = ones(2);
        var shape = Assert.Throws<ArgumentException>(() => model.SetWeights(replacement));
        Assert.Contains("[1]", shape.Message);
        Assert.Contains("[2]", shape.Message);

        var after = model.GetWeights();
        for (int k = 0; k < before.Count; k++)
            Assert.True(before[k].allclose(after[k], rtol: 0, atol: 0), $"Weight {k} changed.");
    }

    [Fact]
    public void SetWeights_UnbuiltModel_ThrowsInvalidOperation()
    {
        var model = new Sequential([new Dense(2)]);
        Assert.Throws<InvalidOperationException>(() => model.SetWeights([ones(3, 2), ones(2)]));
    }

    [Fact]
    public void Call_IsDifferentiable_InputGradientMatchesNative()
    {
        var model = LstmDense(49, returnSequences: false);
        var lstm = NativeModules.Lstm((LSTM)model.Layers[0]);
        var linear = NativeModules.Linear((Dense)model.Layers[1]);
        var x = randn(4, 5, 3).requires_grad_(true);
        var xNative = x.detach().clone().requires_grad_(true);
        model.Call(x).square().sum().backward();
        linear.call(lstm.call(xNative).Item1.select(1, 4)).square().sum().backward();
        Assert.NotNull(x.grad);
        Assert.True(x.grad!.abs().max().item<float>() > 0);
        double diff = TensorAssert.Close(xNative.grad!, x.grad!, atol: 1e-5, rtol: 1e-4, what: "input gradient");
        output.WriteLine($"Sequential LSTM(8) → Dense(1) Call input gradient vs native: max |diff| {diff:E2}");
        Assert.NotNull(model.Layers[0].Weights[0].grad);
    }

    [Fact]
    public void CountParams_EqualsKerasCounts()
    {
        var model = new Sequential();
        model.Add(new LSTM(64, inputShape: [10, 1], returnSequences: true));
        model.Add(new Dense(1));
        Assert.Equal(16896, model.Layers[0].CountParams());
        Assert.Equal(65, model.Layers[1].CountParams());
        Assert.Equal(16961, model.CountParams());

        var rnn = new Sequential([new SimpleRNN(32, inputShape: [10, 4]), new Dense(10, useBias: false)]);
        Assert.Equal(32 * 4 + 32 * 32 + 32 + 32 * 10, rnn.CountParams());
    }

    [Fact]
    public void Predict_Repeated_DoesNotAccumulateLiveTensors()
    {
        var model = LstmDense(50);
        var x = randn(64, 5, 3);
        var array = new float[16, 5, 3];
        model.Predict(x).Dispose();
        model.Predict(array).Dispose();

        var statistics = DisposeScopeManager.Statistics;
        long start = statistics.ThreadTotalLiveCount;
        for (int k = 0; k < 100; k++)
            model.Predict(x, batchSize: 16).Dispose();
        long afterTensors = statistics.ThreadTotalLiveCount;
        for (int k = 0; k < 100; k++)
            model.Predict(array).Dispose();
        long afterArrays = statistics.ThreadTotalLiveCount;
        output.WriteLine($"Live tensors: +{afterTensors - start} after 100 Predict(Tensor), +{afterArrays - afterTensors} after 100 Predict(float[,,]) ({statistics})");
        // Each call creates dozens of tensors (every batch, state, gate buffer): a leak grows by at least 100.
        Assert.InRange(afterTensors - start, -10, 10);
        Assert.InRange(afterArrays - afterTensors, -10, 10);
    }

    [Fact]
    public void SummaryText_MixedModel_KerasShapesAndParameterCounts()
    {
        var model = new Sequential([
            new Embedding(1000, 16, inputLength: 20),     // 16,000
            new Conv1D(32, 5),                             // 5·16·32 + 32 = 2,592
            new MaxPooling1D(2),
            new Bidirectional(new GRU(8, returnSequences: true)),   // 2 · (3·8·(32 + 8) + 2·3·8) = 2,016
            new BatchNormalization(),                      // 4 · 16 = 64, half of it non-trainable
            new GlobalAveragePooling1D(),
            new SeqSharp.Layers.Dropout(0.5),
            new Dense(1, activation: "sigmoid"),           // 17
        ]);
        string text = model.SummaryText();
        output.WriteLine(text);
        foreach (string shape in new[] { "(None, 20, 16)", "(None, 16, 32)", "(None, 8, 32)", "(None, 8, 16)", "(None, 16)", "(None, 1)" })
            Assert.Contains(shape, text);
        foreach (string count in new[] { "16,000", "2,592", "2,016", "64", "17" })
            Assert.Contains(count, text);
        Assert.Contains("Total params: 20,689 ", text);
        Assert.Contains("Trainable params: 20,657 ", text);
        Assert.Contains("Non-trainable params: 32 ", text);
        Assert.Contains("(Bidirectional)", text);
    }
}
