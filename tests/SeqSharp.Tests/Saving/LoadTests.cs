using SeqSharp.Layers;
using SeqSharp.Losses;
using SeqSharp.Metrics;
using SeqSharp.Optimizers;
using SeqSharp.Optimizers.Schedules;
using SeqSharp.Tests.TestSupport;
using Dropout = SeqSharp.Layers.Dropout;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Saving;

/// <summary><see cref="Sequential.Load"/> of files written by <see cref="Sequential.Save"/>.</summary>
public class LoadTests
{
    private static void AssertSameWeights(Sequential expected, Sequential actual)
    {
        var a = expected.GetWeights();
        var b = actual.GetWeights();
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
            TensorAssert.Close(a[i], b[i], atol: 0, what: $"weight {i}");
    }

    [Fact]
    public void Load_SavedModel_SameLayersWeightsAndPredictions()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        var source = SaveWeightsTests.Mixed(2, name: "mixed");
        source.Compile(optimizer: new RMSprop(learningRate: 0.003, momentum: 0.5), loss: new Huber(delta: 0.5), metrics: ["mae", new R2Score(name: "r2")]);
        source.Save(path);

        var loaded = Sequential.Load(path);

        Assert.Equal("mixed", loaded.Name);
        Assert.Equal(source.Layers.Select(l => (l.ClassName, l.Name)), loaded.Layers.Select(l => (l.ClassName, l.Name)));
        for (int i = 0; i < source.Layers.Count; i++)
            Assert.Equal(LayerConfig(source.Layers[i]), LayerConfig(loaded.Layers[i]));
        AssertSameWeights(source, loaded);
        var x = randn(6, 5, 3);
        TensorAssert.Close(source.Predict(x, verbose: 0), loaded.Predict(x, verbose: 0), atol: 0, what: "prediction");
        var optimizer = Assert.IsType<RMSprop>(loaded.Optimizer);
        Assert.Equal(0.003, optimizer.LearningRate);
        Assert.Equal(0.5, optimizer.Momentum);
        Assert.Equal(0.5, Assert.IsType<Huber>(loaded.Loss).Delta);
        Assert.Equal(["mae", "r2"], loaded.Metrics.Select(m => m.Name));
        Assert.IsType<SeqSharp.Metrics.MeanAbsoluteError>(loaded.Metrics[0]);
    }

    private static string LayerConfig(Layer layer) => SeqSharp.Saving.KerasJson.Write(layer.GetConfig());

    [Fact]
    public void Load_SavedModelOfWrappersConvolutionPoolingAndNormalization_PredictsIdentically()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        manual_seed(9);
        var source = new Sequential([
            new Embedding(20, 4, inputShape: [8]),
            new Conv1D(5, 3, padding: "same", activation: "relu"),
            new MaxPooling1D(),
            new Bidirectional(new LSTM(3, returnSequences: true), mergeMode: "sum"),
            new LayerNormalization(),
            new TimeDistributed(new Dense(2)),
            new GlobalAveragePooling1D(),
            new BatchNormalization(),
            new Dense(1),
        ]);
        using (no_grad())
        {
            foreach (var w in source.Layers.SelectMany(l => l.Weights))
                w.add_(randn_like(w) * 0.1);
        }
        source.Compile(optimizer: "adam", loss: "mse");
        source.Save(path);

        var loaded = Sequential.Load(path);

        Assert.Equal(source.Layers.Select(l => l.ClassName), loaded.Layers.Select(l => l.ClassName));
        AssertSameWeights(source, loaded);
        var x = randint(0, 20, [5, 8]).to_type(ScalarType.Float32);
        TensorAssert.Close(source.Predict(x, verbose: 0), loaded.Predict(x, verbose: 0), atol: 0, what: "prediction");
    }

    [Fact]
    public void Load_ModelBuiltFromData_RebuildsFromBuildInputShape()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        manual_seed(3);
        var source = new Sequential([new GRU(3, returnSequences: true), new Dropout(0.25), new Dense(2, activation: "tanh")]);
        var x = randn(4, 6, 2);
        source.Predict(x, verbose: 0);
        source.Save(path);

        var loaded = Sequential.Load(path);

        Assert.Null(loaded.Layers[0].InputShape);
        Assert.Equal(new long[] { 6, 2 }, loaded.InputShape);
        Assert.False(loaded.Compiled);
        TensorAssert.Close(source.Predict(x, verbose: 0), loaded.Predict(x, verbose: 0), atol: 0, what: "prediction");
    }

    [Fact]
    public void Load_ExplicitInputLayerAndFloat64_KeptAsIs()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        manual_seed(4);
        var source = new Sequential([new InputLayer([4, 2], name: "in", dtype: ScalarType.Float64),
            new SimpleRNN(3, goBackwards: true, dtype: ScalarType.Float64), new Dense(1, dtype: ScalarType.Float64)]);
        source.Save(path);

        var loaded = Sequential.Load(path);

        // As Keras 3's model.layers: the InputLayer is kept (and saved) but not listed.
        Assert.Equal([source.Layers[0].Name, source.Layers[1].Name], loaded.Layers.Select(l => l.Name));
        Assert.IsType<InputLayer>(loaded.AllLayers[0]);
        Assert.Equal("in", loaded.AllLayers[0].Name);
        Assert.All(loaded.Layers, l => Assert.Equal(ScalarType.Float64, l.DType));
        AssertSameWeights(source, loaded);
    }

    [Fact]
    public void Load_CompileFalse_LeavesTheModelUncompiled()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        var source = SaveWeightsTests.Mixed(5);
        source.Compile(optimizer: "adam", loss: "mse");
        source.Save(path);

        Assert.False(Sequential.Load(path, compile: false).Compiled);
    }

    [Fact]
    public void Load_ScheduleAndAccuracy_RoundTrip()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        manual_seed(6);
        var source = new Sequential([new Dense(3, inputShape: [4], activation: "softmax")]);
        source.Compile(optimizer: new SGD(learningRate: new ExponentialDecay(0.1, 10, 0.5, staircase: true), momentum: 0.9, nesterov: true),
            loss: "categorical_crossentropy", metrics: ["accuracy", new MeanMetricWrapper("mean_absolute_error", name: "wrapped")]);
        source.Save(path);

        var loaded = Sequential.Load(path);

        var schedule = Assert.IsType<ExponentialDecay>(loaded.Optimizer!.Schedule);
        Assert.Equal((0.1, 10L, 0.5, true), (schedule.InitialLearningRate, schedule.DecaySteps, schedule.DecayRate, schedule.Staircase));
        Assert.IsType<AutoAccuracy>(loaded.Metrics[0]);
        Assert.Equal("mean_absolute_error", Assert.IsType<MeanMetricWrapper>(loaded.Metrics[1]).FunctionName);
    }

    [Fact]
    public void Load_DoesNotDrawFromTheGlobalGenerator()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        SaveWeightsTests.Mixed(7).Save(path);
        manual_seed(8);
        var expected = rand(5);
        manual_seed(8);

        Sequential.Load(path);

        TensorAssert.Close(expected, rand(5), atol: 0, what: "draw after loading");
    }
}
