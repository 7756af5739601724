using System.Runtime.InteropServices;
using SeqSharp.Layers;
using SeqSharp.Losses;
using SeqSharp.Metrics;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Misuse;

/// <summary>
/// Every loss and metric with bad targets (out of range, other element types, wrong shapes, NaN,
/// no samples): each call either computes (as Keras does) or throws a .NET argument exception;
/// no LibTorch <c>ExternalException</c> or C++ frames reach the user. Run in a child process.
/// </summary>
public class TargetMisuseTests
{
    private static readonly string[] LossNames =
        ["mse", "mae", "mape", "msle", "huber", "log_cosh", "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"];

    private static readonly string[] MetricNames =
        ["mse", "mae", "mape", "msle", "rmse", "r2", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
         "top_k_categorical_accuracy", "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy", "logcosh", "huber", "accuracy"];

    /// <summary>Targets for predictions of shape (4, 3), by case name.</summary>
    private static IEnumerable<(string Case, Tensor Target)> Targets()
    {
        yield return ("value 5", full(4, 3, 5f));
        yield return ("value -1", full(4, 3, -1f));
        yield return ("label 3 of 3 classes", tensor(new long[] { 0, 1, 2, 3 }));
        yield return ("label -2", tensor(new long[] { 0, -2, 1, 2 }));
        yield return ("label 1e12", tensor(new long[] { 0, 1, 1_000_000_000_000, 2 }));
        yield return ("label 1.5", tensor(new float[] { 0, 1.5f, 1, 2 }));
        yield return ("rows of 5", full(4, 3, 5f));
        yield return ("bool", ones(4, 3, dtype: ScalarType.Bool));
        yield return ("int64", ones(4, 3, dtype: ScalarType.Int64));
        yield return ("uint8", ones(4, 3, dtype: ScalarType.Byte));
        yield return ("float64", ones(4, 3, dtype: ScalarType.Float64));
        yield return ("float16", ones(4, 3, dtype: ScalarType.Float16));
        yield return ("complex", ones(4, 3, dtype: ScalarType.ComplexFloat32));
        yield return ("NaN", full(4, 3, float.NaN));
        yield return ("shape (4, 2)", ones(4, 2));
        yield return ("shape (5, 3)", ones(5, 3));
        yield return ("shape (4, 3, 2)", ones(4, 3, 2));
        yield return ("shape (2, 6)", ones(2, 6));
        yield return ("scalar", tensor(1f));
        yield return ("shape (4,)", ones(4));
        yield return ("no samples", ones(0, 3));
    }

    private static Tensor Predictions(string @case) =>
        @case == "no samples" ? ones(0, 3) / 3 : softmax(randn(4, 3), 1);

    /// <summary>What one call did, for the table: "ok", "ok (nan)", or the exception type.</summary>
    private static string Outcome(Func<double> call, List<string> problems, string what)
    {
        try
        {
            double value = call();
            return double.IsFinite(value) ? "ok" : $"ok ({value})";
        }
        catch (Exception e) when (e is ArgumentException)
        {
            if (e.Message.Contains("frame #", StringComparison.Ordinal) || e.Message.Contains("Exception raised from", StringComparison.Ordinal))
                problems.Add($"{what}: C++ frames in {e.GetType().Name}: {e.Message}");
            return e.GetType().Name;
        }
        catch (Exception e)
        {
            problems.Add($"{what}: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            return e.GetType().Name;
        }
    }

    /// <summary>Cases that must be refused (not computed): a meaningless result would be a silent failure.</summary>
    private static bool MustRefuse(string name, string @case) =>
        @case == "complex"
        || (name == "binary_crossentropy" && @case is "value 5" or "value -1" or "rows of 5" or "NaN")
        || (name == "sparse_categorical_crossentropy" && @case is "label 3 of 3 classes" or "label -2" or "label 1e12");

    [ChildScenario]
    internal static void Sweep()
    {
        manual_seed(3);
        var problems = new List<string>();
        foreach (var (@case, target) in Targets())
        {
            var predictions = Predictions(@case);
            foreach (string name in LossNames)
            {
                var loss = Loss.Get(name);
                string outcome = Outcome(() => loss.Call(target, predictions).to_type(ScalarType.Float64).item<double>(), problems, $"loss {name}, {@case}");
                Console.WriteLine($"loss   {name,-34} {@case,-22} {outcome}");
                if (MustRefuse(name, @case) && outcome != nameof(ArgumentException))
                    problems.Add($"loss {name}, {@case}: expected ArgumentException, got {outcome}");
            }
            foreach (string name in MetricNames)
            {
                var metric = Metric.Get(name);
                string outcome = Outcome(() => { metric.UpdateState(target, predictions); return metric.Result(); }, problems, $"metric {name}, {@case}");
                Console.WriteLine($"metric {name,-34} {@case,-22} {outcome}");
                if (MustRefuse(name, @case) && outcome != nameof(ArgumentException))
                    problems.Add($"metric {name}, {@case}: expected ArgumentException, got {outcome}");
            }
        }
        FitRefusesBadTargetsUpFront(problems);
        foreach (var problem in problems)
            Console.WriteLine("PROBLEM " + problem);
        Console.WriteLine(problems.Count == 0 ? "DONE" : $"{problems.Count} PROBLEMS");
    }

    /// <summary>Fit with one bad target in its last sample: refused before the first step, weights unchanged.</summary>
    private static void FitRefusesBadTargetsUpFront(List<string> problems)
    {
        var x = randn(40, 4);
        var binary = (randn(40, 1) > 0).to_type(ScalarType.Float32);
        binary[39, 0] = tensor(5f);
        var labels = randint(0, 3, [40]).to_type(ScalarType.Float32);
        labels[39] = tensor(3f);
        var cases = new (string What, Func<Sequential> Model, Tensor Y, string Expected)[]
        {
            ("Fit binary_crossentropy, target 5", () => Compiled(1, "sigmoid", "binary_crossentropy", []), binary, "Received 5 in 'y' (sample 39)"),
            ("Fit mse + metric binary_crossentropy, target 5", () => Compiled(1, "sigmoid", "mse", ["binary_crossentropy"]), binary, "Received 5 in 'y' (sample 39)"),
            ("Fit sparse_categorical_crossentropy, label 3 of 3", () => Compiled(3, "softmax", "sparse_categorical_crossentropy", []), labels, "Received labels from 0 to 3"),
        };
        foreach (var (what, build, y, expected) in cases)
        {
            var model = build();
            var before = model.GetWeights();
            try
            {
                model.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0);
                problems.Add($"{what}: trained without an exception");
            }
            catch (ArgumentException e)
            {
                if (!e.Message.Contains(expected, StringComparison.Ordinal))
                    problems.Add($"{what}: message lacks \"{expected}\": {e.Message}");
                var after = model.GetWeights();
                if (before.Zip(after).Any(pair => !pair.First.eq(pair.Second).all().item<bool>()))
                    problems.Add($"{what}: weights changed before the exception");
                Console.WriteLine($"{what}: {e.Message}");
            }
            catch (Exception e)
            {
                problems.Add($"{what}: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            }
        }
    }

    private static Sequential Compiled(int units, string activation, string loss, string[] metrics)
    {
        var model = new Sequential([new Dense(units, activation: activation, inputShape: [4])]);
        model.Compile(optimizer: "sgd", loss: loss, metrics: metrics.Select(m => (Metric)m).ToList());
        return model;
    }

    [Fact]
    public void LossesAndMetrics_BadTargets_ComputeOrThrowArgumentException()
    {
        var result = ChildProcess.Run($"{nameof(TargetMisuseTests)}.{nameof(Sweep)}");

        Assert.True(result.ExitCode != ChildResult.Aborted, $"The child aborted: {result}");
        Assert.True(result.ExitCode == 0 && result.Output.Contains("DONE"), result.ToString());
    }
}
