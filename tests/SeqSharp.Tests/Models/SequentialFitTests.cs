using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;

namespace SeqSharp.Tests.Models;

/// <summary>
/// <c>Fit</c> against a hand-written TorchSharp training loop (LibTorch's modules, autograd, plain SGD),
/// and Keras's bookkeeping: steps, epoch losses, validation, history keys, weights.
/// </summary>
public class SequentialFitTests(ITestOutputHelper output)
{
    private const ScalarType F64 = ScalarType.Float64;

    [Theory]
    [InlineData("lstm", true, ScalarType.Float64)]
    [InlineData("lstm", false, ScalarType.Float64)]
    [InlineData("simple_rnn", true, ScalarType.Float64)]
    [InlineData("lstm", true, ScalarType.Float32)]
    [InlineData("simple_rnn", false, ScalarType.Float32)]
    public void Fit_OneFullBatchEpochWithSgd_WeightsEqualNativeAutogradStep(string recurrent, bool returnSequences, ScalarType dtype)
    {
        var model = TinyModels.LstmDense(dtype, returnSequences, recurrent);
        var (x, y) = TinyModels.Data(6, dtype, returnSequences);
        var reference = new NativeTrainer(model);
        model.Compile(optimizer: new SGD(learningRate: 0.1), loss: "mse");

        var history = model.Fit(x, y, batchSize: 6, epochs: 1, verbose: 0, shuffle: false);
        double expectedLoss = reference.SgdStep(x, y, learningRate: 0.1);

        Assert.Equal(1, model.Optimizer!.Iterations);
        Assert.Equal(expectedLoss, history["loss"].Single(), dtype == F64 ? 1e-9 : 1e-6);
        var expected = reference.KerasWeights();
        var actual = model.GetWeights();
        Assert.Equal(expected.Count, actual.Count);
        double worst = 0;
        for (int k = 0; k < expected.Count; k++)
            worst = Math.Max(worst, TensorAssert.Close(expected[k], actual[k], atol: 1e-6, what: $"weight {k}"));
        output.WriteLine($"{recurrent} returnSequences={returnSequences} {dtype}: max |weight difference| {worst:E2} after one SGD step");
    }

    [Fact]
    public void Fit_PartialLastBatch_StepsAndBatchWeightedEpochLossMatchNativeLoop()
    {
        var model = TinyModels.LstmDense(F64);
        var (x, y) = TinyModels.Data(10, F64);
        y[8..].add_(3.0);   // the short last batch's loss differs from the others' whatever the draw
        var reference = new NativeTrainer(model);
        model.Compile(optimizer: new SGD(learningRate: 0.05), loss: "mse");

        var history = model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false);

        // ceil(10 / 4) = 3 steps per epoch: batches of 4, 4 and 2.
        Assert.Equal(6, model.Optimizer!.Iterations);
        Assert.Equal(new[] { 0, 1 }, history.Epochs);
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var batches = reference.SgdEpoch(x, y, batchSize: 4, learningRate: 0.05);
            Assert.Equal(new[] { 4L, 4L, 2L }, batches.Select(b => b.Count));
            double weighted = batches.Sum(b => b.Loss * b.Count) / 10;
            double plain = batches.Average(b => b.Loss);
            Assert.True(Math.Abs(weighted - plain) > 1e-4, "The data should tell a batch-weighted mean from a plain one.");
            Assert.Equal(weighted, history["loss"][epoch], 1e-9);
        }
        var expected = reference.KerasWeights();
        var actual = model.GetWeights();
        for (int k = 0; k < expected.Count; k++)
            TensorAssert.Close(expected[k], actual[k], atol: 1e-6, what: $"weight {k} after 6 steps");
    }

    [Fact]
    public void Fit_DefaultBatchSize_Is32WithPartialLastBatch()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(70);
        model.Compile(optimizer: "sgd", loss: "mse");
        model.Fit(x, y, verbose: 0);
        Assert.Equal(3, model.Optimizer!.Iterations);   // 32 + 32 + 6
    }

    [Fact]
    public void Fit_ValidationSplit_TrainsOnTheFirstSamplesAndValidatesOnTheLast()
    {
        var model = TinyModels.LstmDense(F64);
        var (x, y) = TinyModels.Data(10, F64);
        var reference = new NativeTrainer(model);
        model.Compile(optimizer: new SGD(learningRate: 0.1), loss: "mse");

        // Keras: split_at = floor(10 * (1 - 0.25)) = 7 training samples, the last 3 for validation.
        var history = model.Fit(x, y, batchSize: 10, epochs: 1, verbose: 0, shuffle: false, validationSplit: 0.25);
        double trainLoss = reference.SgdStep(x[..7], y[..7], learningRate: 0.1);
        double valLoss;
        using (no_grad())
            valLoss = NativeTrainer.Mse(reference.Forward(x[7..]), y[7..]).item<double>();

        Assert.Equal(1, model.Optimizer!.Iterations);
        Assert.Equal(trainLoss, history["loss"].Single(), 1e-9);
        Assert.Equal(valLoss, history["val_loss"].Single(), 1e-9);
        var expected = reference.KerasWeights();
        var actual = model.GetWeights();
        for (int k = 0; k < expected.Count; k++)
            TensorAssert.Close(expected[k], actual[k], atol: 1e-6, what: $"weight {k}");
    }

    [Theory]
    [InlineData(20, 0.2, 16)]
    [InlineData(10, 0.35, 6)]    // floor(6.5)
    [InlineData(9, 0.5, 4)]      // floor(4.5): the validation part gets the odd sample
    [InlineData(3, 0.5, 1)]
    [InlineData(10, 0.1, 9)]
    public void Fit_ValidationSplitWithShuffle_SplitsBeforeShufflingAtKerasIndex(int samples, double split, int expectedTraining)
    {
        var model = TinyModels.LstmDense(F64);
        var (x, y) = TinyModels.Data(samples, F64);
        model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae"]);

        var history = model.Fit(x, y, batchSize: 1, epochs: 1, verbose: 0, shuffle: true, validationSplit: split);

        Assert.Equal(expectedTraining, model.Optimizer!.Iterations);
        var scores = model.Evaluate(x[expectedTraining..], y[expectedTraining..], verbose: 0);
        Assert.Equal(scores["loss"], history["val_loss"].Single(), 1e-6);
        Assert.Equal(scores["mae"], history["val_mae"].Single(), 1e-6);
    }

    [Fact]
    public void Fit_ValidationDataGiven_OverridesValidationSplit()
    {
        var model = TinyModels.LstmDense(F64);
        var (x, y) = TinyModels.Data(12, F64);
        var (xVal, yVal) = TinyModels.Data(5, F64);
        model.Compile(optimizer: "adam", loss: "mse");

        var history = model.Fit(x, y, batchSize: 4, verbose: 0, validationSplit: 0.5, validationData: (xVal, yVal));

        Assert.Equal(3, model.Optimizer!.Iterations);   // all 12 samples trained on
        Assert.Equal(model.Evaluate(xVal, yVal, verbose: 0)["loss"], history["val_loss"].Single(), 1e-6);
    }

    [Fact]
    public void Fit_HistoryKeys_LossMetricsThenValidationCopiesInKerasOrder()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(10);
        model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae", "rmse"]);

        var withValidation = model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, validationSplit: 0.2);
        var without = model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0);

        Assert.Equal(new[] { "loss", "mae", "rmse", "val_loss", "val_mae", "val_rmse" }, withValidation.Keys);
        Assert.Equal(new[] { "loss", "mae", "rmse" }, without.Keys);
        Assert.All(withValidation.Values.Values, v => Assert.Equal(2, v.Count));
    }

    [Fact]
    public void Fit_InitialEpoch_CountsTowardEpochs()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(8);
        model.Compile(optimizer: "adam", loss: "mse");

        var history = model.Fit(x, y, batchSize: 4, epochs: 5, initialEpoch: 3, verbose: 0);

        Assert.Equal(new[] { 3, 4 }, history.Epochs);
        Assert.Equal(2, history["loss"].Count);
        Assert.Equal(4, model.Optimizer!.Iterations);
    }

    [Fact]
    public void Fit_InitialEpochAtOrPastEpochs_TrainsNothing()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(8);
        model.Compile(optimizer: "adam", loss: "mse");
        var before = model.GetWeights();

        var history = model.Fit(x, y, epochs: 2, initialEpoch: 2, verbose: 0);

        Assert.Empty(history.Epochs);
        Assert.Empty(history.Keys);
        Assert.Equal(0, model.Optimizer!.Iterations);
        TinyModels.AssertSameWeights(before, model.GetWeights());
    }

    [Fact]
    public void Fit_ZeroLearningRate_EpochLossAndMaeAreMeansOverAllSamples()
    {
        // With a learning rate of 0 the weights stay fixed, so the epoch's running values must equal
        // the loss and MAE of the predictions over all samples, the short last batch weighted by its size.
        var model = TinyModels.LstmDense(F64);
        var (x, y) = TinyModels.Data(11, F64);
        model.Compile(optimizer: new SGD(learningRate: 0.0), loss: "mse", metrics: ["mae"]);

        var history = model.Fit(x, y, batchSize: 4, verbose: 0);

        var error = model.Predict(x, verbose: 0).to_type(F64) - y;
        Assert.Equal(error.square().mean().item<double>(), history["loss"].Single(), 1e-6);
        Assert.Equal(error.abs().mean().item<double>(), history["mae"].Single(), 1e-6);
    }

    [Fact]
    public void Fit_SampleWeightZeroForHalf_MatchesNativeWeightedStep()
    {
        var model = TinyModels.LstmDense(F64);
        var (x, y) = TinyModels.Data(8, F64);
        var weights = tensor(new double[] { 1, 0, 2, 0, 0.5, 0, 1, 0 });
        var reference = new NativeTrainer(model);
        var initial = model.GetWeights();
        model.Compile(optimizer: new SGD(learningRate: 0.1), loss: "mse");

        var history = model.Fit(x, y, batchSize: 8, verbose: 0, shuffle: false, sampleWeight: weights);
        double expectedLoss = reference.SgdStep(x, y, 0.1, weights);

        // Keras ("sum_over_batch_size"): sum of weighted values over all 8 * 5 values, not over the weights.
        Assert.Equal(expectedLoss, history["loss"].Single(), 1e-9);
        var expected = reference.KerasWeights();
        var actual = model.GetWeights();
        for (int k = 0; k < expected.Count; k++)
            TensorAssert.Close(expected[k], actual[k], atol: 1e-6, what: $"weight {k}");

        // The targets of zero-weight samples play no part.
        var other = TinyModels.LstmDense(F64);
        other.SetWeights(initial);
        other.Compile(optimizer: new SGD(learningRate: 0.1), loss: "mse");
        var yChanged = y.clone();
        yChanged[1] = yChanged[1] + 100.0;
        yChanged[7] = yChanged[7] - 100.0;
        other.Fit(x, yChanged, batchSize: 8, verbose: 0, shuffle: false, sampleWeight: weights);
        var otherWeights = other.GetWeights();
        for (int k = 0; k < actual.Count; k++)
            TensorAssert.Close(actual[k], otherWeights[k], atol: 1e-12, what: $"weight {k} with changed zero-weight targets");
    }

    /// <summary>Dense(4, tanh) → Dense(units, activation) on 3 features.</summary>
    private static Sequential Classifier(int units, string activation, IReadOnlyList<Tensor>? weights = null)
    {
        var model = new Sequential([new Dense(4, activation: "tanh", inputShape: [3]), new Dense(units, activation: activation)]);
        if (weights is not null)
            model.SetWeights(weights);
        return model;
    }

    [Fact]
    public void Fit_ClassWeight_EqualsEquivalentSampleWeight()
    {
        var x = randn(12, 3);
        var y = tensor(new float[] { 0, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0 }).reshape(12, 1);
        var sampleWeight = tensor(new float[] { 1, 3, 3, 1, 1, 1, 3, 1, 3, 3, 1, 1 });
        var byClass = Classifier(1, "sigmoid");
        var bySample = Classifier(1, "sigmoid", byClass.GetWeights());
        var unweighted = Classifier(1, "sigmoid", byClass.GetWeights());
        foreach (var m in new[] { byClass, bySample, unweighted })
            m.Compile(optimizer: "adam", loss: "binary_crossentropy", metrics: ["accuracy"]);

        var a = byClass.Fit(x, y, batchSize: 5, epochs: 2, verbose: 0, shuffle: false, classWeight: new Dictionary<int, double> { [0] = 1, [1] = 3 });
        var b = bySample.Fit(x, y, batchSize: 5, epochs: 2, verbose: 0, shuffle: false, sampleWeight: sampleWeight);
        var c = unweighted.Fit(x, y, batchSize: 5, epochs: 2, verbose: 0, shuffle: false);

        for (int epoch = 0; epoch < 2; epoch++)
        {
            Assert.Equal(b["loss"][epoch], a["loss"][epoch], 1e-6);
            Assert.Equal(b["accuracy"][epoch], a["accuracy"][epoch], 1e-6);
        }
        Assert.True(Math.Abs(c["loss"][0] - a["loss"][0]) > 1e-4, "Class weights should change the loss.");
        var wa = byClass.GetWeights();
        var wb = bySample.GetWeights();
        for (int k = 0; k < wa.Count; k++)
            TensorAssert.Close(wb[k], wa[k], atol: 1e-6, what: $"weight {k}");
    }

    [Fact]
    public void Fit_ClassWeightWithOneHotTargets_UsesArgmaxClass()
    {
        var x = randn(9, 3);
        var labels = new long[] { 0, 2, 1, 1, 0, 2, 2, 0, 1 };
        var y = nn.functional.one_hot(tensor(labels), 3).to_type(ScalarType.Float32);
        double[] perClass = [1, 2, 5];
        var sampleWeight = tensor(labels.Select(l => (float)perClass[l]).ToArray());
        var byClass = Classifier(3, "softmax");
        var bySample = Classifier(3, "softmax", byClass.GetWeights());
        byClass.Compile(optimizer: "sgd", loss: "categorical_crossentropy");
        bySample.Compile(optimizer: "sgd", loss: "categorical_crossentropy");

        var a = byClass.Fit(x, y, batchSize: 4, verbose: 0, shuffle: false, classWeight: new Dictionary<int, double> { [0] = 1, [1] = 2, [2] = 5 });
        var b = bySample.Fit(x, y, batchSize: 4, verbose: 0, shuffle: false, sampleWeight: sampleWeight);

        Assert.Equal(b["loss"][0], a["loss"][0], 1e-6);
    }

    [Fact]
    public void Fit_ClassWeightWithValidationSplit_ValidationLossIsUnweighted()
    {
        // Keras applies class weights to the training batches only; val_loss is the plain loss.
        var x = randn(12, 3);
        var y = tensor(new float[] { 0, 1, 1, 0, 0, 0, 1, 0, 1, 1, 1, 0 }).reshape(12, 1);
        var model = Classifier(1, "sigmoid");
        model.Compile(optimizer: "adam", loss: "binary_crossentropy");

        var history = model.Fit(x, y, batchSize: 4, verbose: 0, validationSplit: 0.25, classWeight: new Dictionary<int, double> { [0] = 1, [1] = 10 });

        Assert.Equal(model.Evaluate(x[9..], y[9..], verbose: 0)["loss"], history["val_loss"].Single(), 1e-6);
    }

    [Fact]
    public void Fit_YWithoutTrailingAxisOfOne_AcceptedAsKerasDoes()
    {
        var x = randn(10, 3);
        var y = randn(10);
        var model = new Sequential([new Dense(1, inputShape: [3])]);
        var twin = new Sequential([new Dense(1, inputShape: [3])]);
        twin.SetWeights(model.GetWeights());
        model.Compile(optimizer: "sgd", loss: "mse");
        twin.Compile(optimizer: "sgd", loss: "mse");

        var flat = model.Fit(x, y, batchSize: 4, verbose: 0, shuffle: false);
        var column = twin.Fit(x, y.unsqueeze(1), batchSize: 4, verbose: 0, shuffle: false);

        Assert.Equal(column["loss"].Single(), flat["loss"].Single(), 1e-7);
        // Not broadcast to (10, 10): the loss is the hand MSE over the 10 samples.
        var sequences = TinyModels.LstmDense();
        var (xs, ys) = TinyModels.Data(6);
        sequences.Compile(optimizer: new SGD(learningRate: 0.0), loss: "mse");
        var h = sequences.Fit(xs, ys.squeeze(-1), batchSize: 6, verbose: 0);
        Assert.Equal((sequences.Predict(xs, verbose: 0) - ys).square().mean().item<float>(), h["loss"].Single(), 1e-5);
    }

    [Fact]
    public void Fit_ModelWithoutInputShape_BuildsFromData()
    {
        var model = new Sequential([new LSTM(3, returnSequences: true), new Dense(1)]);
        model.Compile(loss: "mse");
        Assert.False(model.Built);
        var (x, y) = TinyModels.Data(4);
        model.Fit(x, y, verbose: 0);
        Assert.True(model.Built);
        Assert.Equal(new long[] { TinyModels.Steps, TinyModels.Features }, model.InputShape);
        Assert.Equal("rmsprop", model.Optimizer!.Name);
        Assert.Equal(1, model.Optimizer.Iterations);
    }

    [Fact]
    public void Fit_FrozenLayer_KeepsItsWeightsAndGetsNoOptimizerState()
    {
        var model = TinyModels.LstmDense();
        model.Layers[1].Trainable = false;
        var (x, y) = TinyModels.Data(8);
        var before = model.GetWeights();
        model.Compile(optimizer: "adam", loss: "mse");

        model.Fit(x, y, batchSize: 4, verbose: 0);

        var after = model.GetWeights();
        TinyModels.AssertSameWeights(before.Skip(3).ToList(), after.Skip(3).ToList());
        Assert.False(before[0].allclose(after[0], rtol: 0, atol: 0));
        // Keras builds the optimizer for the trainable variables only: iterations, learning rate,
        // then momentum and velocity of the LSTM's 3 weights.
        var state = model.Optimizer!.Variables;
        Assert.Equal(2 + 2 * 3, state.Count);
        Assert.Equal(2 + 2 * 4 * 4 * (TinyModels.Features + 4 + 1), state.Sum(v => v.numel()));
    }

    [Fact]
    public void Fit_EveryLayerFrozen_RecordsTheLossAndChangesNothing()
    {
        var model = TinyModels.LstmDense();
        foreach (var layer in model.Layers)
            layer.Trainable = false;
        var (x, y) = TinyModels.Data(6);
        var before = model.GetWeights();
        model.Compile(optimizer: "adam", loss: "mse");

        var history = model.Fit(x, y, batchSize: 4, verbose: 0);

        TinyModels.AssertSameWeights(before, model.GetWeights());
        Assert.Equal(0, model.Optimizer!.Iterations);
        Assert.Equal((model.Predict(x, verbose: 0) - y).square().mean().item<float>(), history["loss"].Single(), 1e-5);
    }

    [Fact]
    public void Fit_TrainableChangedAfterFit_RefusedBeforeTrainingUntilRecompiled()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(6);
        model.Compile(optimizer: "adam", loss: "mse");
        model.Fit(x, y, verbose: 0);
        model.Layers[0].Trainable = false;
        var before = model.GetWeights();
        var begun = new RecordingCallback();

        var e = Assert.Throws<InvalidOperationException>(() => model.Fit(x, y, verbose: 0, callbacks: [begun]));

        Assert.Contains("built for 5 variables", e.Message);
        Assert.Contains("call Compile() again", e.Message);
        Assert.Empty(begun.Events);
        TinyModels.AssertSameWeights(before, model.GetWeights());
        Assert.Equal(1, model.Optimizer!.Iterations);
        model.Compile(optimizer: "adam", loss: "mse");
        model.Fit(x, y, verbose: 0);
        Assert.Equal(1, model.Optimizer.Iterations);
        TinyModels.AssertSameWeights(before.Take(3).ToList(), model.GetWeights().Take(3).ToList());
    }

    /// <summary>Records the names of the hooks called.</summary>
    private sealed class RecordingCallback : SeqSharp.Callbacks.Callback
    {
        public List<string> Events { get; } = [];
        public override void OnTrainBegin(IDictionary<string, double> logs) => Events.Add("train_begin");
        public override void OnEpochBegin(int epoch, IDictionary<string, double> logs) => Events.Add("epoch_begin");
    }

    [Fact]
    public void Fit_Repeated2000Steps_LiveTensorCountStaysFlat()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(200);
        model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae"]);
        // Warm up: the optimizer's slots are created on the first step.
        model.Fit(x, y, batchSize: 8, verbose: 0, validationSplit: 0.2);
        var statistics = DisposeScopeManager.Statistics;
        long start = statistics.ThreadTotalLiveCount;
        long memoryStart = Environment.WorkingSet;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        // 160 training samples in batches of 8: 20 steps per epoch, 2,000 steps.
        var history = model.Fit(x, y, batchSize: 8, epochs: 100, verbose: 0, validationSplit: 0.2);

        long growth = statistics.ThreadTotalLiveCount - start;
        output.WriteLine($"2,000 steps in {clock.Elapsed.TotalSeconds:F1} s: live tensors {growth:+#;-#;0}, " +
            $"working set {(Environment.WorkingSet - memoryStart) / 1e6:+0.0;-0.0} MB ({statistics})");
        Assert.Equal(2020, model.Optimizer!.Iterations);
        Assert.Equal(100, history["loss"].Count);
        // Every step creates dozens of tensors: a leak of one per step would show as 2,000.
        Assert.InRange(growth, -10, 10);
    }
}
