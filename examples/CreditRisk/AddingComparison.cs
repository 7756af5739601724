using System.Diagnostics;
using SeqSharp.Examples.LongRangeMemory;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using static TorchSharp.torch;

namespace SeqSharp.Examples.CreditRisk;

/// <summary>
/// The second problem of the comparison: an LSTM trained on the adding problem (T = 10, see
/// <see cref="AddingProblem"/>), whose output depends only on the two marked steps. Players are
/// whole time steps (value and marker together), and the true causes are the two marked steps.
/// </summary>
public static class AddingComparison
{
    /// <summary>Sequence length.</summary>
    public const int Steps = 10;

    /// <summary>Trains the LSTM and compares every method on <paramref name="explained"/> test sequences; returns the results and the model's test MSE.</summary>
    public static (IReadOnlyList<MethodResult> Results, double TestMse) Run(int trainSamples, int epochs, int explained, ComparisonSettings settings, TextWriter log)
    {
        using var scope = NewDisposeScope();
        Utils.SetRandomSeed(1010);
        var (xTrain, yTrain) = AddingProblem.Generate(trainSamples, Steps);
        var (xTest, yTest) = AddingProblem.Generate(500, Steps);
        Utils.SetRandomSeed(10);
        var model = new Sequential([new LSTM(16, inputShape: [Steps, 2]), new Dense(1)]);
        model.Compile(optimizer: new Adam(learningRate: 1e-3, clipnorm: 1.0), loss: "mse");
        var clock = Stopwatch.StartNew();
        model.Fit(xTrain, yTrain, batchSize: 32, epochs: epochs, verbose: 0);
        double mse = model.Evaluate(xTest, yTest, batchSize: 500, verbose: 0)["loss"];
        log.WriteLine(FormattableString.Invariant(
            $"Adding problem (T = {Steps}): LSTM(16) trained on {trainSamples} sequences × {epochs} epochs in {clock.Elapsed.TotalSeconds:F1} s; test MSE {mse:F4} (mean predictor {AddingProblem.MeanPredictorMse:F3})."));
        var x = xTest[..explained];
        var causes = x[.., .., 1].gt(0.5);                                       // (n, T): the marked steps
        var background = xTrain[..10];
        var results = MethodComparison.Run(model, x, yTest[..explained], background, window: 1, perFeature: false, causes, settings, "mse");
        log.WriteLine($"Explaining {explained} test sequences; players: the {Steps} steps; background 10 training sequences.");
        log.WriteLine();
        log.Write(MethodComparison.Markdown(results, $"{2.0 / Steps:P0}"));
        foreach (var r in results)
            r.Groups.MoveToOuterDisposeScope();
        return (results, mse);
    }
}
