using Microsoft.Extensions.Logging;
using SeqSharp.Callbacks;
using SeqSharp.Native;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Logging;

/// <summary>
/// The process-wide default (<see cref="SeqSharpLogging.LoggerFactory"/>), a model's own factory
/// overriding it, and the events of Save and Load, callback warnings and the native-library report.
/// Tests that replace the process-wide factory run in one collection, not in parallel with each other,
/// and look only at events of their own uniquely named models.
/// </summary>
[Collection(nameof(SeqSharpLoggingTests))]
public class SeqSharpLoggingTests
{
    private sealed record Entry(string Category, LogLevel Level, int Id, IReadOnlyDictionary<string, object?> State, string Message);

    private sealed class CapturingFactory : ILoggerFactory
    {
        private readonly List<Entry> _entries = [];
        public IReadOnlyList<Entry> Entries { get { lock (_entries) return _entries.ToList(); } }
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
                lock (owner._entries)
                    owner._entries.Add(new Entry(category, logLevel, eventId.Id, pairs.ToDictionary(p => p.Key, p => p.Value), formatter(state, exception)));
            }
        }
    }

    private static Sequential Named(string name)
    {
        var model = new Sequential(name: name);
        model.Add(new SeqSharp.Layers.LSTM(3, inputShape: [4, 2]));
        model.Add(new SeqSharp.Layers.Dense(1));
        model.Compile(optimizer: "adam", loss: "mse");
        return model;
    }

    private static IEnumerable<Entry> Of(CapturingFactory factory, string model) =>
        factory.Entries.Where(e => Equals(e.State.GetValueOrDefault("Model"), model));

    [Fact]
    public void LoggerFactory_ProcessWideDefault_UsedUntilAModelSetsItsOwn()
    {
        var previous = SeqSharpLogging.LoggerFactory;
        var global = new CapturingFactory();
        var own = new CapturingFactory();
        string name = $"logging_default_{Guid.NewGuid():N}";
        try
        {
            SeqSharpLogging.LoggerFactory = global;
            var model = Named(name);
            var x = torch.rand(5, 4, 2);
            var y = torch.rand(5, 1);
            model.Fit(x, y, epochs: 2, verbose: 0);
            // Training begins and ends name the model (the epoch events in between carry their values).
            Assert.Equal([1, 4], Of(global, name).Select(e => e.Id));

            model.LoggerFactory = own;
            model.Evaluate(x, y, verbose: 0);
            Assert.Equal([10], Of(own, name).Select(e => e.Id));
            Assert.Equal([1, 4], Of(global, name).Select(e => e.Id));
        }
        finally
        {
            SeqSharpLogging.LoggerFactory = previous;
        }
    }

    [Fact]
    public void LoggerFactory_Set_LogsTheNativeReportToTheNewFactory()
    {
        var previous = SeqSharpLogging.LoggerFactory;
        var factory = new CapturingFactory();
        try
        {
            SeqSharpLogging.LoggerFactory = factory;
            var native = Assert.Single(factory.Entries, e => e.Category == "SeqSharp.Native");
            var report = TorchNative.EnsureLoaded();
            int expectedId = report.Fix switch { NativeFix.Failed => 202, NativeFix.Applied => 201, _ => 200 };
            Assert.Equal(expectedId, native.Id);
            Assert.Contains(report.Detail, native.Message);
        }
        finally
        {
            SeqSharpLogging.LoggerFactory = previous;
        }
        Assert.Throws<ArgumentNullException>(() => SeqSharpLogging.LoggerFactory = null!);
    }

    [Fact]
    public void SaveAndLoad_LogTheirPathsWithEventIds()
    {
        string name = $"logging_files_{Guid.NewGuid():N}";
        string folder = Path.Combine(Path.GetTempPath(), name);
        Directory.CreateDirectory(folder);
        var previous = SeqSharpLogging.LoggerFactory;
        var factory = new CapturingFactory();
        try
        {
            var model = Named(name);
            model.LoggerFactory = factory;
            model.Predict(torch.rand(2, 4, 2), verbose: 0);
            string file = Path.Combine(folder, "m.keras");
            string weights = Path.Combine(folder, "m.weights.h5");
            model.Save(file);
            model.SaveWeights(weights);
            model.LoadWeights(weights);
            // A loaded model is new: it logs to the process-wide factory.
            SeqSharpLogging.LoggerFactory = factory;
            Sequential.Load(file);

            var events = Of(factory, name).Select(e => (e.Id, e.Level, What: e.State.GetValueOrDefault("What"), Path: e.State.GetValueOrDefault("Path"))).ToList();
            Assert.Equal(
                [(20, LogLevel.Debug, null, null), (30, LogLevel.Information, "model", file), (30, LogLevel.Information, "weights", weights),
                 (40, LogLevel.Information, "weights", weights), (40, LogLevel.Information, "Keras 3 model", file)],
                events.Select(e => (e.Id, e.Level, (object?)e.What, (object?)e.Path)));
        }
        finally
        {
            SeqSharpLogging.LoggerFactory = previous;
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void CallbackWarning_WithoutAWriter_GoesToTheModelsLoggerOnce()
    {
        string name = $"logging_callback_{Guid.NewGuid():N}";
        var factory = new CapturingFactory();
        var model = Named(name);
        model.LoggerFactory = factory;
        // No validation data, so val_loss never exists: Keras warns at every epoch end, SeqSharp once.
        var stopping = new EarlyStopping(monitor: "val_loss", patience: 1);
        model.Fit(torch.rand(5, 4, 2), torch.rand(5, 1), epochs: 3, verbose: 0, callbacks: [stopping]);

        var warnings = factory.Entries.Where(e => e.Level == LogLevel.Warning).ToList();
        var warning = Assert.Single(warnings);
        Assert.Equal(110, warning.Id);
        Assert.Equal("SeqSharp.Callbacks.EarlyStopping", warning.Category);
        Assert.Contains("val_loss", warning.Message);
        Assert.Equal("EarlyStopping", warning.State["Callback"]);
    }
}
