using System.Diagnostics;
using System.Globalization;
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
    public static IReadOnlyList<LongRangeRow> Run(LongRangeOptions options, TextWriter log)
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
                var model = new Sequential();
                model.Add(name == "LSTM"
                    ? new LSTM(options.Units, inputShape: [steps, 2])
                    : new SimpleRNN(options.Units, inputShape: [steps, 2]));
                model.Add(new Dense(1));
                model.Compile(optimizer: new Adam(learningRate: 1e-3, clipnorm: 1.0), loss: "mse");
                var clock = Stopwatch.StartNew();
                model.Fit(xTrain, yTrain, batchSize: options.BatchSize, epochs: options.Epochs, verbose: 0);
                double seconds = clock.Elapsed.TotalSeconds;
                double mse = model.Evaluate(xTest, yTest, batchSize: 500, verbose: 0)["loss"];
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
}
