using PureHDF;
using Microsoft.Extensions.Logging;
using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using Dense = SeqSharp.Layers.Dense;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Saving;

/// <summary>
/// <c>Save("m.h5")</c>: Keras 3's legacy full-model HDF5 file (<c>legacy_h5_format.save_model_to_hdf5</c>),
/// with Keras's deprecation warning, read back by SeqSharp and by h5py (the independent Python reader).
/// </summary>
public class LegacyH5SaveTests
{
    private static Sequential Model()
    {
        manual_seed(70);
        var model = new Sequential([
            new Embedding(12, 4, inputShape: [6]),
            new Conv1D(5, 2, padding: "causal", activation: "relu"),
            new Bidirectional(new LSTM(3, returnSequences: true)),
            new GRU(4, recurrentActivation: "hard_sigmoid"),
            new Dense(2, activation: "tanh"),
        ], name: "h5_model");
        using (no_grad())
        {
            foreach (var w in model.GetWeights().Zip(model.Layers.SelectMany(l => l.Weights)))
                w.Second.add_(randn_like(w.Second) * 0.3);
        }
        return model;
    }

    private static Tensor Input()
    {
        manual_seed(71);
        return randint(0, 12, [5, 6]).to_type(ScalarType.Float32);
    }

    [Fact]
    public void Save_H5_LoadGivesTheSameModelAndCompileSettings()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.h5");
        var model = Model();
        model.Compile(optimizer: new SeqSharp.Optimizers.Adam(learningRate: 0.003), loss: "mse", metrics: ["mae"]);

        model.Save(path);
        using var loaded = Sequential.Load(path);

        Assert.Equal(model.Layers.Select(l => l.GetType()), loaded.Layers.Select(l => l.GetType()));
        Assert.Equal(model.Layers.Select(l => l.Name), loaded.Layers.Select(l => l.Name));
        TensorAssert.Close(model.Predict(Input(), verbose: 0), loaded.Predict(Input(), verbose: 0), atol: 0, what: "loaded .h5 model");
        Assert.True(loaded.Compiled);
        Assert.Equal(0.003, loaded.Optimizer!.LearningRate, 1e-9);
    }

    [Fact]
    public void Save_H5_WarnsThatTheFormatIsLegacyThroughTheLogger()
    {
        using var folder = new TempFolder();
        var logged = new List<(LogLevel Level, string Message)>();
        var model = Model();
        model.LoggerFactory = new ListLoggerFactory(logged);

        model.Save(folder.File("m.h5"));

        var warning = Assert.Single(logged, l => l.Level == LogLevel.Warning);
        Assert.Contains("This file format is considered legacy", warning.Message);
        Assert.Contains("model.Save(\"my_model.keras\")", warning.Message);
        logged.Clear();
        model.Save(folder.File("m.keras"));
        Assert.DoesNotContain(logged, l => l.Level >= LogLevel.Warning);
    }

    [Theory]
    [InlineData("m.weights.h5")]
    [InlineData("m.txt")]
    public void Save_OtherName_RefusedAndNothingWritten(string name)
    {
        using var folder = new TempFolder();
        var e = Assert.Throws<ArgumentException>(() => Model().Save(folder.File(name)));
        Assert.Contains(name, e.Message);
        Assert.False(File.Exists(folder.File(name)));
    }

    [PythonH5pyFact]
    public void Save_H5_H5pyReaderPredictsTheSame()
    {
        // The independent float64 reader (tests/reference/keras_reference.py, h5py + numpy) reads the
        // file SeqSharp wrote: its strings, config and weights layout are what h5py and Keras read.
        using var folder = new TempFolder();
        var path = folder.File("m.h5");
        var model = Model();
        model.Save(path);

        var expected = PythonReference.Predict(path, Input());

        double diff = TensorAssert.Close(expected, model.Predict(Input(), verbose: 0), atol: 1e-5, what: "h5py reading SeqSharp's .h5");
        Console.WriteLine($"SeqSharp .h5 read by h5py: max |diff| {diff:E2}");
    }

    /// <summary>
    /// A functional model with two inputs and two outputs: an encoder LSTM whose states start a decoder LSTM, a
    /// static-feature branch, Concatenate and Add merges, and a layer used twice (shared weights).
    /// </summary>
    private static Model FunctionalModel()
    {
        manual_seed(72);
        var series = new Input(shape: [5, 3], name: "series");
        var statics = new Input(shape: [4], name: "statics");
        var (encoded, h, c) = new LSTM(4, returnSequences: true, returnState: true, name: "encoder").Apply(series);
        var decoded = new LSTM(4, name: "decoder").Apply(encoded, initialState: [h, c]);
        var shared = new Dense(4, activation: "tanh", name: "shared");
        var features = shared.Apply(statics);
        var again = shared.Apply(new Dense(4, name: "project").Apply(statics));
        var merged = new Concatenate(name: "concat").Apply([decoded, features]);
        var sum = new Add(name: "add").Apply([h, again]);
        var forecast = new Dense(2, name: "forecast").Apply(merged);
        var gru = new GRU(3, name: "gru").Apply(encoded);
        var score = new Dense(1, activation: "sigmoid", name: "score").Apply(new Concatenate(name: "concat_1").Apply([sum, gru]));
        var model = new Model([series, statics], [forecast, score], name: "two_heads");
        using (no_grad())
        {
            foreach (var w in model.Layers.SelectMany(l => l.Weights))
                w.add_(randn_like(w) * 0.3);
        }
        return model;
    }

    private static List<Tensor> FunctionalInputs()
    {
        manual_seed(73);
        return [rand(6, 5, 3), rand(6, 4)];
    }

    [Fact]
    public void Save_H5_FunctionalModel_LoadGivesTheSameGraphAndPredictions()
    {
        using var folder = new TempFolder();
        var path = folder.File("f.h5");
        using var model = FunctionalModel();
        model.Compile(optimizer: "adam", loss: ["mse", "binary_crossentropy"], lossWeights: [1.0, 0.5], metrics: [["mae"], null]);

        model.Save(path);
        using var loaded = SeqSharp.Model.Load(path);

        Assert.Equal(model.Layers.Select(l => (l.GetType(), l.Name)), loaded.Layers.Select(l => (l.GetType(), l.Name)));
        Assert.Equal(["series", "statics"], loaded.Inputs.Select(i => i.Layer.Name));
        var expected = model.PredictMulti(FunctionalInputs(), verbose: 0);
        var actual = loaded.PredictMulti(FunctionalInputs(), verbose: 0);
        Assert.Equal(2, actual.Count);
        for (int i = 0; i < 2; i++)
            TensorAssert.Close(expected[i], actual[i], atol: 0, what: $"loaded functional .h5, output {i}");
        Assert.True(loaded.Compiled);
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains("Model.Load", e.Message);
    }

    [Fact]
    public void Save_H5_FunctionalModel_HasKeras3sLegacyLayout()
    {
        // What Keras 3's Functional.get_config() writes under the legacy-config option (legacy_h5_format): layer
        // entries without 'module', with 'name' and 'inbound_nodes' (args/kwargs, __keras_tensor__ references); the
        // input layers among model_weights' layer_names; variable paths without the model's scope.
        using var folder = new TempFolder();
        var path = folder.File("f.h5");
        using (var model = FunctionalModel())
            model.Save(path);

        using var file = H5File.OpenRead(path);
        var config = System.Text.Json.JsonDocument.Parse(file.Attribute("model_config").Read<string>()).RootElement;
        Assert.Equal("Functional", config.GetProperty("class_name").GetString());
        Assert.Equal(["class_name", "config"], config.EnumerateObject().Select(p => p.Name));
        var layers = config.GetProperty("config").GetProperty("layers").EnumerateArray().ToList();
        Assert.All(layers, l => Assert.Equal(["class_name", "config", "name", "inbound_nodes"], l.EnumerateObject().Select(p => p.Name)));
        var input = layers.First(l => l.GetProperty("name").GetString() == "series");
        Assert.Equal("InputLayer", input.GetProperty("class_name").GetString());
        Assert.Equal(0, input.GetProperty("inbound_nodes").GetArrayLength());
        var decoder = layers.Single(l => l.GetProperty("name").GetString() == "decoder").GetProperty("inbound_nodes")[0];
        var states = decoder.GetProperty("kwargs").GetProperty("initial_state").EnumerateArray()
            .Select(s => s.GetProperty("config").GetProperty("keras_history").EnumerateArray().Select(v => v.ToString()).ToArray()).ToList();
        Assert.Equal([["encoder", "0", "1"], ["encoder", "0", "2"]], states);
        Assert.Equal(2, layers.Single(l => l.GetProperty("name").GetString() == "shared").GetProperty("inbound_nodes").GetArrayLength());
        var outputs = config.GetProperty("config").GetProperty("output_layers").EnumerateArray()
            .Select(o => string.Join(",", o.EnumerateArray().Select(v => v.ToString()))).ToList();
        Assert.Equal(["forecast,0,0", "score,0,0"], outputs);

        var weights = file.Group("model_weights");
        var names = weights.Attribute("layer_names").Read<string[]>();
        Assert.Equal(new[] { "series", "encoder", "decoder", "statics", "shared", "project", "concat", "add", "forecast", "gru", "concat_1", "score" }.Order(), names.Order());
        Assert.Equal(["shared/kernel", "shared/bias"], weights.Group("shared").Attribute("weight_names").Read<string[]>());
        Assert.Equal(["encoder/lstm_cell/kernel", "encoder/lstm_cell/recurrent_kernel", "encoder/lstm_cell/bias"],
            weights.Group("encoder").Attribute("weight_names").Read<string[]>());
    }

    [PythonH5pyFact]
    public void Save_H5_FunctionalModel_H5pyReaderPredictsTheSame()
    {
        // The float64 reader follows the file's inbound nodes with h5py and numpy: its outputs are an independent
        // reference for what the file describes, and prove that h5py reads SeqSharp's functional .h5.
        using var folder = new TempFolder();
        var path = folder.File("f.h5");
        using var model = FunctionalModel();
        model.Save(path);

        var expected = PythonReference.PredictFunctional(path, FunctionalInputs());
        var predicted = model.PredictMulti(FunctionalInputs(), verbose: 0);

        Assert.Equal(2, expected.Count);
        double worst = 0;
        for (int i = 0; i < 2; i++)
            worst = Math.Max(worst, TensorAssert.Close(expected[i], predicted[i], atol: 1e-5, what: $"h5py reading SeqSharp's functional .h5, output {i}"));
        Console.WriteLine($"SeqSharp functional .h5 read by h5py: max |diff| {worst:E2}");
    }

    private sealed class ListLoggerFactory(List<(LogLevel, string)> entries) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new ListLogger(entries);
        public void AddProvider(ILoggerProvider provider) { }
        public void Dispose() { }
    }

    private sealed class ListLogger(List<(LogLevel, string)> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Add((logLevel, formatter(state, exception)));
    }
}
