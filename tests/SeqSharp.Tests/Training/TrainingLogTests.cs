using Microsoft.Extensions.Logging;
using SeqSharp.Callbacks;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Training;

/// <summary>
/// The structured events <c>Fit</c> sends to <c>Sequential.LoggerFactory</c>: training begins, one event
/// per epoch with its values as state, an early stop, training ends.
/// </summary>
public class TrainingLogTests
{
    private sealed record Entry(string Category, LogLevel Level, EventId Id, IReadOnlyDictionary<string, object?> State, string Message);

    /// <summary>A logger factory that records every event with its structured state.</summary>
    private sealed class CapturingFactory : ILoggerFactory
    {
        public List<Entry> Entries { get; } = [];
        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();
        public void Dispose() { }

        private sealed class Logger(CapturingFactory owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var pairs = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
                owner.Entries.Add(new Entry(category, logLevel, eventId, pairs.ToDictionary(p => p.Key, p => p.Value), formatter(state, exception)));
            }
        }
    }

    private sealed class StopAfterFirstEpoch : Callback
    {
        public override void OnEpochEnd(int epoch, IDictionary<string, double> logs) => Model!.StopTraining = true;
    }

    [Fact]
    public void Fit_WithLoggerFactory_BeginOneStructuredEventPerEpochEnd()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(20);
        model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae"]);
        var factory = new CapturingFactory();
        model.LoggerFactory = factory;

        var history = model.Fit(x, y, batchSize: 4, epochs: 3, verbose: 0, validationSplit: 0.2);

        var entries = factory.Entries;
        Assert.Equal(new[] { 1, 2, 2, 2, 4 }, entries.Select(e => e.Id.Id));
        Assert.All(entries, e => Assert.Equal("SeqSharp.Sequential", e.Category));
        Assert.All(entries, e => Assert.Equal(LogLevel.Information, e.Level));

        var begin = entries[0].State;
        Assert.Equal(model.Name, begin["Model"]);
        Assert.Equal(3, begin["Epochs"]);
        Assert.Equal(4, begin["Steps"]);   // 16 training samples in batches of 4

        for (int k = 0; k < 3; k++)
        {
            var state = entries[1 + k].State;
            Assert.Equal(k + 1, state["Epoch"]);
            Assert.Equal(3, state["Epochs"]);
            Assert.Equal(history["loss"][k], Assert.IsType<double>(state["Loss"]));
            Assert.Equal(history["val_loss"][k], Assert.IsType<double>(state["ValLoss"]));
            Assert.True(Assert.IsType<double>(state["ElapsedMs"]) >= 0);
            var logs = Assert.IsAssignableFrom<IReadOnlyDictionary<string, double>>(state["Logs"]);
            Assert.Equal(history.Keys, logs.Keys);
            Assert.Equal(history["mae"][k], logs["mae"]);
            Assert.Contains($"Epoch {k + 1}/3", entries[1 + k].Message);
        }

        var end = Assert.IsAssignableFrom<IReadOnlyDictionary<string, double>>(entries[4].State["Logs"]);
        Assert.Equal(history["val_mae"][^1], end["val_mae"]);
    }

    [Fact]
    public void Fit_WithoutValidation_ValLossStateIsNull()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(6);
        model.Compile(optimizer: "adam", loss: "mse");
        var factory = new CapturingFactory();
        model.LoggerFactory = factory;

        var history = model.Fit(x, y, verbose: 0);

        var epoch = Assert.Single(factory.Entries, e => e.Id.Id == 2).State;
        Assert.Equal(history["loss"][0], epoch["Loss"]);
        Assert.True(epoch.ContainsKey("ValLoss"));
        Assert.Null(epoch["ValLoss"]);
    }

    [Fact]
    public void Fit_StoppedByCallback_LogsTheStopBeforeTheEnd()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(6);
        model.Compile(optimizer: "adam", loss: "mse");
        var factory = new CapturingFactory();
        model.LoggerFactory = factory;

        var history = model.Fit(x, y, epochs: 5, verbose: 0, callbacks: [new StopAfterFirstEpoch()]);

        Assert.Single(history.Epochs);
        Assert.Equal(new[] { 1, 2, 3, 4 }, factory.Entries.Select(e => e.Id.Id));
        Assert.Equal(model.Name, factory.Entries[2].State["Model"]);
    }

    [Fact]
    public void EvaluateAndPredict_WithLoggerFactory_LogOneEventEachAndNoTrainingEvents()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(6);
        model.Compile(loss: "mse");
        var factory = new CapturingFactory();
        model.LoggerFactory = factory;
        var scores = model.Evaluate(x, y, verbose: 0);
        model.Predict(x, verbose: 0);

        Assert.Equal([10, 20], factory.Entries.Select(e => e.Id.Id));
        Assert.All(factory.Entries, e => Assert.Equal("SeqSharp.Sequential", e.Category));
        var evaluated = factory.Entries[0];
        Assert.Equal(LogLevel.Information, evaluated.Level);
        Assert.Equal(6L, evaluated.State["Samples"]);
        Assert.Equal(scores["loss"], ((IReadOnlyDictionary<string, double>)evaluated.State["Logs"]!)["loss"]);
        var predicted = factory.Entries[1];
        Assert.Equal(LogLevel.Debug, predicted.Level);
        Assert.Equal(6L, predicted.State["Samples"]);
        Assert.Equal(model.Name, predicted.State["Model"]);
    }
}
