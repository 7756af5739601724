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
        Assert.Contains("model.save('my_model.keras')", warning.Message);
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
