using System.Diagnostics;
using System.Globalization;
using SeqSharp.Interpretability;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Plotting;
using static TorchSharp.torch;

namespace SeqSharp.Examples.LongRangeMemory;

/// <summary>How big a run is: the full comparison, or a few seconds' one for tests.</summary>
/// <param name="Lengths">Sequence lengths T to compare at.</param>
/// <param name="Units">Hidden units of both recurrent layers.</param>
/// <param name="TrainSamples">Training sequences per T (a multiple of <paramref name="BatchSize"/>).</param>
/// <param name="Epochs">Passes over them; steps = TrainSamples / BatchSize · Epochs, the same for both models.</param>
/// <param name="BatchSize">Sequences per step.</param>
/// <param name="TestSamples">Fresh test sequences per T.</param>
public sealed record LongRangeOptions(int[] Lengths, int Units, int TrainSamples, int Epochs, int BatchSize, int TestSamples)
{
    /// <summary>The comparison as <c>dotnet run</c> runs it.</summary>
    public static LongRangeOptions Full => new([10, 50, 100, 200], Units: 32, TrainSamples: 12_800, Epochs: 20, BatchSize: 64, TestSamples: 2_000);

    /// <summary>A few seconds' run for the tests: T = 10 only.</summary>
    public static LongRangeOptions Small => new([10], Units: 16, TrainSamples: 3_200, Epochs: 10, BatchSize: 32, TestSamples: 500);

    /// <summary>Training steps per model and T.</summary>
    public int Steps => TrainSamples / BatchSize * Epochs;
}

/// <summary>One model at one T: its test MSE, the mean predictor's on the same test set, and the training time.</summary>
public sealed record LongRangeRow(int Steps, string Model, double TestMse, double BaselineMse, double TrainSeconds);

/// <summary>
/// SimpleRNN against LSTM on the adding problem at growing T, with the same units, optimizer and
/// training budget: the long-range memory the reference document credits to the LSTM's gates.
/// </summary>
public static class LongRangeExample
{
    /// <summary>
    /// Trains and evaluates both models at every T. <paramref name="trained"/>, when given, receives
    /// each trained model with its T, name and test inputs (to look inside it, see <see cref="Inspect"/>).
    /// </summary>
    /// <summary>One of the example's two models, untrained: <c>"LSTM"</c> or <c>"SimpleRNN"</c> → Dense on the adding problem's (steps, 2) input.</summary>
    public static Sequential BuildModel(string name, int units, int steps)
    {
        var model = new Sequential();
        model.Add(name == "LSTM"
            ? new LSTM(units, inputShape: [steps, 2])
            : new SimpleRNN(units, inputShape: [steps, 2]));
        model.Add(new Dense(1));
        return model;
    }

    public static IReadOnlyList<LongRangeRow> Run(LongRangeOptions options, TextWriter log, Action<int, string, Sequential, Tensor>? trained = null)
    {
        log.WriteLine($"Adding problem: {options.Units} units, Adam (lr 1e-3, clipnorm 1), batch {options.BatchSize}, " +
            $"{options.Steps} steps ({options.TrainSamples} sequences × {options.Epochs} epochs) per model and T; {options.TestSamples} test sequences.");
        log.WriteLine($"Mean predictor: MSE ≈ {AddingProblem.MeanPredictorMse:F3}.");
        log.WriteLine();
        var rows = new List<LongRangeRow>();
        foreach (int steps in options.Lengths)
        {
            Utils.SetRandomSeed(1000 + steps);
            var (xTrain, yTrain) = AddingProblem.Generate(options.TrainSamples, steps);
            var (xTest, yTest) = AddingProblem.Generate(options.TestSamples, steps);
            double trainMean = yTrain.mean().item<float>();
            double baseline = (yTest - trainMean).square().mean().item<float>();
            foreach (string name in new[] { "SimpleRNN", "LSTM" })
            {
                Utils.SetRandomSeed(steps);
                Utils.ClearSession();
                var model = BuildModel(name, options.Units, steps);
                model.Compile(optimizer: new Adam(learningRate: 1e-3, clipnorm: 1.0), loss: "mse");
                var clock = Stopwatch.StartNew();
                model.Fit(xTrain, yTrain, batchSize: options.BatchSize, epochs: options.Epochs, verbose: 0);
                double seconds = clock.Elapsed.TotalSeconds;
                double mse = model.Evaluate(xTest, yTest, batchSize: 500, verbose: 0)["loss"];
                trained?.Invoke(steps, name, model, xTest);
                var row = new LongRangeRow(steps, name, mse, baseline, seconds);
                rows.Add(row);
                log.WriteLine($"T = {steps,3}  {name,-9}  test MSE {mse:F4}  (mean predictor {baseline:F4}, {mse / baseline:P0} of it)  trained in {seconds:F1} s");
            }
        }
        log.WriteLine();
        log.Write(Markdown(rows));
        return rows;
    }

    /// <summary>The results as a Markdown table: one row per T, both models side by side.</summary>
    public static string Markdown(IReadOnlyList<LongRangeRow> rows)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        text.WriteLine("| T | mean predictor MSE | SimpleRNN MSE | LSTM MSE | SimpleRNN / baseline | LSTM / baseline | SimpleRNN train s | LSTM train s |");
        text.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var group in rows.GroupBy(r => r.Steps))
        {
            var rnn = group.Single(r => r.Model == "SimpleRNN");
            var lstm = group.Single(r => r.Model == "LSTM");
            text.WriteLine(FormattableString.Invariant(
                $"| {group.Key} | {rnn.BaselineMse:F4} | {rnn.TestMse:F4} | {lstm.TestMse:F4} | {rnn.TestMse / rnn.BaselineMse:F2} | {lstm.TestMse / lstm.BaselineMse:F2} | {rnn.TrainSeconds:F1} | {lstm.TrainSeconds:F1} |"));
        }
        return text.ToString();
    }

    /// <summary>The results as CSV, one line per model and T.</summary>
    public static string Csv(IReadOnlyList<LongRangeRow> rows)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        text.WriteLine("T,model,test_mse,baseline_mse,train_seconds");
        foreach (var r in rows)
            text.WriteLine(FormattableString.Invariant($"{r.Steps},{r.Model},{r.TestMse:R},{r.BaselineMse:R},{r.TrainSeconds:F2}"));
        return text.ToString();
    }

    /// <summary>Writes <c>long-range.md</c>, <c>long-range.csv</c> and <c>long-range.png</c> (test MSE against T) to <paramref name="folder"/>; returns their paths.</summary>
    public static (string Markdown, string Csv, string Plot) Write(IReadOnlyList<LongRangeRow> rows, string folder)
    {
        Directory.CreateDirectory(folder);
        string md = Path.Combine(folder, "long-range.md"), csv = Path.Combine(folder, "long-range.csv");
        File.WriteAllText(md, "# Adding problem: SimpleRNN vs LSTM\n\n" + Markdown(rows));
        File.WriteAllText(csv, Csv(rows));
        var lengths = rows.Select(r => r.Steps).Distinct().ToArray();
        double[] Mse(string model) => lengths.Select(t => rows.Single(r => r.Steps == t && r.Model == model).TestMse).ToArray();
        string png = Plots.Lines(Path.Combine(folder, "long-range.png"), lengths.Select(t => (double)t).ToArray(),
            new Dictionary<string, double[]>
            {
                ["SimpleRNN"] = Mse("SimpleRNN"),
                ["LSTM"] = Mse("LSTM"),
                ["mean predictor"] = lengths.Select(t => rows.First(r => r.Steps == t).BaselineMse).ToArray(),
            },
            title: "Adding problem: test MSE against sequence length (same budget)", xLabel: "sequence length T", yLabel: "test MSE", logY: true);
        return (md, csv, png);
    }

    /// <summary>
    /// Looks inside the two trained models on test sequences of one T and writes three pictures to
    /// <paramref name="folder"/>: the LSTM's input gate and cell state on the first sequence
    /// (<c>long-range-input-gate.png</c>, <c>long-range-cell.png</c>), and the integrated-gradients
    /// attribution of the value channel for both models on that sequence, from a baseline with the
    /// values zeroed and the markers kept (<c>long-range-attribution.png</c>).
    /// Returns, per model, the share of the value channel's absolute attribution that falls on the two
    /// marked steps, averaged over up to 200 test sequences: near 1 when the model reads the marked
    /// values where they are, near 2/T when it attributes evenly.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Inspect(IReadOnlyDictionary<string, Sequential> models, Tensor xTest, string folder, TextWriter log)
    {
        using var scope = NewDisposeScope();
        Directory.CreateDirectory(folder);
        int steps = (int)xTest.shape[1];
        var sequences = xTest[..(int)Math.Min(200, xTest.shape[0])];
        var markers = sequences[.., .., 1];
        var shares = new Dictionary<string, double>();
        var series = new Dictionary<string, double[]>();
        foreach (var (name, model) in models)
        {
            // Baseline: the same sequences with every value 0 and the markers kept, so the attribution
            // splits f(x) - f(values 0) over the values: a model that solves the task gives the two
            // marked values to their own steps and nothing elsewhere.
            var baseline = sequences.clone();
            baseline[.., .., 0] = zeros(sequences.shape[0], steps);
            var attribution = Attributions.IntegratedGradients(model, sequences, baseline, steps: 64)[.., .., 0];   // (n, T): value channel
            var magnitude = attribution.abs();
            shares[name] = ((magnitude * markers).sum(1) / magnitude.sum(1).clamp_min(1e-12)).mean().item<float>();
            series[name] = ToDoubles(attribution[0]);
            log.WriteLine($"{name}: {shares[name]:P0} of the value channel's attribution lies on the two marked steps (T = {steps}, mean over {sequences.shape[0]} test sequences).");
        }
        series["marked values"] = ToDoubles(sequences[0, .., 0] * markers[0]);
        var first = sequences[..1];
        var lstm = ActivationRecorder.Record(models["LSTM"], first)[0];
        var marked = string.Join(" and ", Enumerable.Range(0, steps).Where(t => markers[0, t].item<float>() > 0));
        Plots.GateHeatmap(Path.Combine(folder, "long-range-input-gate.png"), lstm.Gates["input"],
            title: $"LSTM input gate, one test sequence (T = {steps}, marked steps {marked})");
        Plots.GateHeatmap(Path.Combine(folder, "long-range-cell.png"), lstm.Cell!,
            title: $"LSTM cell state, same sequence (marked steps {marked})");
        Plots.Lines(Path.Combine(folder, "long-range-attribution.png"), [.. Enumerable.Range(0, steps).Select(t => (double)t)], series,
            title: $"Integrated gradients of the value channel (T = {steps})", xLabel: "time step", yLabel: "attribution");
        return shares;
    }

    private static double[] ToDoubles(Tensor values) => [.. values.to_type(ScalarType.Float64).data<double>()];
}
