using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Logging;

namespace SeqSharp.Benchmarks;

/// <summary>
/// One training epoch of each example's model on its own data (issue 15, target 7): every example
/// runs as it does from the command line (its small configuration where it has one), each in a
/// child process of its own, and the epochs are timed by <c>Fit</c>'s own log events (event 1,
/// "Training {Model} for {Epochs} epochs of {Steps} steps", and event 2, "Epoch {Epoch}/{Epochs}
/// took {ElapsedMs} ms"), so that what is timed is exactly the epoch: batches, validation and
/// callbacks, without data preparation, evaluation or plotting.
/// </summary>
internal static class ExampleEpochs
{
    /// <summary>The fits of one example: its model's name, steps per epoch, and every epoch's milliseconds.</summary>
    public sealed record Fit(string Example, string Model, int Steps, IReadOnlyList<double> EpochMs)
    {
        /// <summary>Whether these epochs came from fits of one epoch each.</summary>
        public bool OneEpochFits { get; init; }

        /// <summary>The median epoch after the first (which includes warm-up), or the only one.</summary>
        public double MedianMs => EpochMs.Count == 1 ? EpochMs[0] : Timing.Median(EpochMs.Skip(1).ToList());
    }

    /// <summary>Every example project, with the arguments of its run here (an output folder is appended where it takes one).</summary>
    public static readonly (string Name, string[] Args, bool TakesOut)[] All =
    [
        ("LstmSequence", [], false),
        ("SimpleRnnSequence", [], false),
        ("AirlinePassengers", ["--small"], true),
        ("AttentionForecast", ["--small"], true),
        ("CnnLstmForecast", ["--small"], false),
        ("CreditRisk", ["--small"], true),
        ("DataParallel", [], false),
        ("JenaClimate", [], false),
        ("LongRangeMemory", ["--small"], true),
        ("LstmAutoencoder", ["--small"], false),
        ("SelfSupervised", ["--small"], false),
        ("SentimentLstm", ["--small"], false),
        ("Seq2SeqReverse", ["--small"], false),
    ];

    /// <summary>Runs every example in a child process and gathers its fits.</summary>
    public static List<Fit> Measure(BenchOptions options)
    {
        var fits = new List<Fit>();
        foreach (var (name, _, _) in All)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = ChildProcesses.Run(options, "example", name);
            var mine = new List<Fit>();
            foreach (var part in result.Where(p => p.Length > 0))
            {
                var fields = part.Split('|');
                var epochs = fields[2].Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList();
                int steps = int.Parse(fields[1], CultureInfo.InvariantCulture);
                // A loop of one-epoch fits of the same model (SelfSupervised's pre-training) is one run of epochs.
                if (mine.Count > 0 && mine[^1].Model == fields[0] && mine[^1].Steps == steps && epochs.Count == 1 && mine[^1].EpochMs.Count >= 1
                    && mine[^1].OneEpochFits)
                    mine[^1] = mine[^1] with { EpochMs = [.. mine[^1].EpochMs, epochs[0]] };
                else
                    mine.Add(new Fit(name, fields[0], steps, epochs) { OneEpochFits = epochs.Count == 1 });
            }
            // Several fits in one example: numbered in the order they ran.
            for (int i = 0; i < mine.Count && mine.Count > 1; i++)
                mine[i] = mine[i] with { Model = $"{i + 1}:{mine[i].Model}" };
            fits.AddRange(mine);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"example {name,-18} {result.Length} fit(s), whole run {clock.Elapsed.TotalSeconds:F1} s"));
        }
        return fits;
    }

    /// <summary>
    /// In the child: the example's entry point with its usual arguments, its console output
    /// discarded, <c>Fit</c>'s log events captured; prints <c>RESULT model|steps|ms,ms,… …</c>.
    /// </summary>
    public static void RunChild(string name)
    {
        var (_, args, takesOut) = All.Single(e => e.Name == name);
        string folder = Path.Combine(Path.GetTempPath(), "seqsharp-example-epochs-" + Environment.ProcessId);
        Directory.CreateDirectory(folder);
        var capture = new CapturingLoggerFactory();
        SeqSharpLogging.LoggerFactory = capture;
        var output = Console.Out;
        string previousDirectory = Environment.CurrentDirectory;
        try
        {
            Environment.CurrentDirectory = folder;
            Console.SetOut(TextWriter.Null);
            var entry = Assembly.Load(new AssemblyName(name)).EntryPoint
                ?? throw new InvalidOperationException($"The example '{name}' has no entry point.");
            string[] arguments = takesOut ? [.. args, "--out", folder] : args;
            var returned = entry.Invoke(null, entry.GetParameters().Length == 0 ? null : [arguments]);
            if (returned is Task task)
                task.GetAwaiter().GetResult();
        }
        finally
        {
            Console.SetOut(output);
            Environment.CurrentDirectory = previousDirectory;
            Directory.Delete(folder, recursive: true);
        }
        output.WriteLine("RESULT " + string.Join(' ', capture.Fits.Where(f => f.EpochMs.Count > 0).Select(f =>
            string.Create(CultureInfo.InvariantCulture, $"{f.Model.Replace(' ', '_').Replace('|', '_')}|{f.Steps}|{string.Join(',', f.EpochMs.Select(ms => ms.ToString("F2", CultureInfo.InvariantCulture)))}"))));
    }

    /// <summary>Collects events 1 and 2 of every logger it makes.</summary>
    private sealed class CapturingLoggerFactory : ILoggerFactory, ILogger
    {
        public List<(string Model, int Steps, List<double> EpochMs)> Fits { get; } = [];

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (state is not IReadOnlyList<KeyValuePair<string, object?>> values)
                return;
            object? Value(string key) => values.FirstOrDefault(v => v.Key == key).Value;
            lock (Fits)
            {
                if (eventId.Id == 1)
                    Fits.Add((Value("Model") as string ?? "?", Convert.ToInt32(Value("Steps"), CultureInfo.InvariantCulture), []));
                else if (eventId.Id == 2 && Fits.Count > 0 && Value("ElapsedMs") is double ms)
                    Fits[^1].EpochMs.Add(ms);
            }
        }
    }
}
