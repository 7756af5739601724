using System.Diagnostics;
using System.Globalization;
using SeqSharp.Interpretability;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Plotting;
using static TorchSharp.torch;

namespace SeqSharp.Examples.CreditRisk;

/// <summary>How big a run is.</summary>
/// <param name="Train">Training accounts.</param>
/// <param name="Test">Test accounts.</param>
/// <param name="Epochs">LSTM training epochs.</param>
/// <param name="Explained">At-risk test accounts explained.</param>
/// <param name="Background">Training accounts in the SHAP background.</param>
/// <param name="Comparison">Sample counts of the explanation methods.</param>
public sealed record CreditOptions(int Train, int Test, int Epochs, int Explained, int Background, ComparisonSettings Comparison)
{
    /// <summary>The example as <c>dotnet run</c> runs it.</summary>
    public static CreditOptions Full => new(Train: 12_000, Test: 4_000, Epochs: 20, Explained: 20, Background: 20,
        new ComparisonSettings(ShapSamples: 2048, GradientShapSamples: 200, LimeSamples: 2000, IgSteps: 50, PermutationRepeats: 5));

    /// <summary>A run of well under a minute, for the tests and <c>--small</c>.</summary>
    public static CreditOptions Small => new(Train: 4_000, Test: 2_000, Epochs: 12, Explained: 6, Background: 10,
        new ComparisonSettings(ShapSamples: 512, GradientShapSamples: 100, LimeSamples: 500, IgSteps: 20, PermutationRepeats: 2));
}

/// <summary>What the run measured.</summary>
/// <param name="DefaultRate">Share of defaults in the training set.</param>
/// <param name="ClassWeight">The class weights used (balanced: n / (2 n_class)).</param>
/// <param name="Lstm">The LSTM's test scores.</param>
/// <param name="Logistic">The logistic regression's test scores.</param>
/// <param name="ShapTop">The three groups with the largest mean |Kernel SHAP| over the explained accounts, e.g. <c>late, months 18-23</c>.</param>
/// <param name="LimeTop">The same for |LIME coefficient|.</param>
/// <param name="Comparison">Every method on the explained accounts.</param>
public sealed record CreditResult(double DefaultRate, IReadOnlyDictionary<int, double> ClassWeight, BinaryScores Lstm, BinaryScores Logistic,
    IReadOnlyList<string> ShapTop, IReadOnlyList<string> LimeTop, IReadOnlyList<MethodResult> Comparison);

/// <summary>
/// A default-probability model on monthly account histories: an LSTM trained with class weights on
/// imbalanced data, against a logistic regression on hand-made features, then explained with Kernel
/// SHAP and LIME (and every other attribution method) to check that the explanations find the months
/// and features of the rule that generated the defaults (<see cref="CreditData"/>).
/// </summary>
public static class CreditRiskExample
{
    /// <summary>Months per SHAP/LIME window: four windows, 0-5, 6-11, 12-17, 18-23.</summary>
    public const int Window = 6;

    /// <summary>The groups (window, feature) that hold the rule's causes: late in 18-23, utilisation in 12-17 and 18-23.</summary>
    public static readonly int[] CauseGroups = [Group(3, CreditData.Late), Group(2, CreditData.Utilisation), Group(3, CreditData.Utilisation)];

    private static int Group(int window, int feature) => window * CreditData.Features.Length + feature;

    /// <summary>The group's name, e.g. <c>late, months 18-23</c>.</summary>
    public static string GroupName(int group) =>
        FormattableString.Invariant($"{CreditData.Features[group % CreditData.Features.Length]}, months {group / CreditData.Features.Length * Window}-{group / CreditData.Features.Length * Window + Window - 1}");

    /// <summary>Trains, scores and explains; writes pictures to <paramref name="folder"/> when given.</summary>
    public static CreditResult Run(CreditOptions options, TextWriter log, string? folder = null)
    {
        using var scope = NewDisposeScope();
        var random = new Random(2026);
        var train = CreditData.Generate(options.Train, random);
        var test = CreditData.Generate(options.Test, random);
        double positives = train.Y.sum().item<float>();
        double rate = positives / train.Count;
        // Balanced weights, as scikit-learn's class_weight="balanced": n / (2 n_class).
        var classWeight = new Dictionary<int, double> { [0] = train.Count / (2 * (train.Count - positives)), [1] = train.Count / (2 * positives) };
        log.WriteLine(FormattableString.Invariant(
            $"Synthetic credit histories: {train.Count} training accounts ({rate:P1} default, {train.AtRisk.Count(r => r)} at risk by the rule), {test.Count} test accounts ({test.Y.sum().item<float>() / test.Count:P1} default)."));
        log.WriteLine(FormattableString.Invariant($"Class weights (balanced): 0 → {classWeight[0]:F3}, 1 → {classWeight[1]:F2}."));

        Utils.SetRandomSeed(7);
        var lstm = new Sequential([new LSTM(16, inputShape: [CreditData.Months, CreditData.Features.Length]), new Dense(1, activation: "sigmoid")]);
        lstm.Compile(optimizer: new Adam(learningRate: 5e-3), loss: "binary_crossentropy");
        var clock = Stopwatch.StartNew();
        lstm.Fit(train.X, train.Y, epochs: options.Epochs, batchSize: 64, classWeight: classWeight, verbose: 0);
        log.WriteLine(FormattableString.Invariant($"LSTM(16) → Dense(1, sigmoid): {options.Epochs} epochs in {clock.Elapsed.TotalSeconds:F1} s."));

        var (logistic, scaler) = TrainLogistic(train, classWeight);
        var labels = Doubles(test.Y);
        var lstmScores = BinaryScores.Compute(Doubles(lstm.Predict(test.X, verbose: 0)), labels);
        var logisticScores = BinaryScores.Compute(Doubles(logistic.Predict(scaler(HandFeatures.Compute(test.X)), verbose: 0)), labels);
        log.WriteLine();
        log.Write(ScoresMarkdown(lstmScores, logisticScores));

        // Explain at-risk test accounts the LSTM flags: do the explanations find the rule?
        var flagged = lstm.Predict(test.X, verbose: 0).reshape(-1);
        var chosen = Enumerable.Range(0, test.Count).Where(i => test.AtRisk[i] && flagged[i].item<float>() >= 0.5f).Take(options.Explained).ToArray();
        if (chosen.Length == 0)
            throw new InvalidOperationException("The LSTM flagged no at-risk test account; nothing to explain.");
        var x = test.X.index_select(0, tensor(chosen.Select(i => (long)i).ToArray()));
        var y = test.Y.index_select(0, tensor(chosen.Select(i => (long)i).ToArray()));
        var shuffled = Enumerable.Range(0, train.Count).ToArray();
        new Random(5).Shuffle(shuffled);
        var backgroundRows = shuffled.Take(options.Background).Select(i => (long)i).ToArray();
        var background = train.X.index_select(0, tensor(backgroundRows));
        int groups = CreditData.Months / Window * CreditData.Features.Length;
        var causes = zeros(chosen.Length, groups, ScalarType.Bool);
        foreach (int g in CauseGroups)
            causes[.., g] = true;
        var comparison = MethodComparison.Run(lstm, x, y, background, Window, perFeature: true, causes, options.Comparison, "binary_crossentropy");
        var shapTop = Top(comparison.Single(r => r.Method == "Kernel SHAP").Groups);
        var limeTop = Top(comparison.Single(r => r.Method == "LIME").Groups);
        log.WriteLine();
        log.WriteLine($"Explaining {chosen.Length} at-risk test accounts the LSTM flags (groups: {Window}-month windows per feature, {groups} in all; background {options.Background} training accounts).");
        log.WriteLine($"Largest mean |Kernel SHAP|: {string.Join("; ", shapTop)}.");
        log.WriteLine($"Largest mean |LIME coefficient|: {string.Join("; ", limeTop)}.");
        log.WriteLine($"The rule's groups: {string.Join("; ", CauseGroups.Select(GroupName))}.");
        log.WriteLine();
        log.Write(MethodComparison.Markdown(comparison, FormattableString.Invariant($"{(double)CauseGroups.Length / groups:P0}")));

        if (folder is not null)
            WritePictures(lstm, x, background, folder);
        foreach (var r in comparison)
            r.Groups.MoveToOuterDisposeScope();
        return new CreditResult(rate, classWeight, lstmScores, logisticScores, shapTop, limeTop, comparison);
    }

    /// <summary>The test scores of both models as a Markdown table.</summary>
    public static string ScoresMarkdown(BinaryScores lstm, BinaryScores logistic)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        text.WriteLine("| model | AUC | precision (p ≥ 0.5) | recall (p ≥ 0.5) | flagged |");
        text.WriteLine("|---|---:|---:|---:|---:|");
        text.WriteLine(FormattableString.Invariant($"| LSTM on the monthly sequences | {lstm.Auc:F3} | {lstm.Precision:F3} | {lstm.Recall:F3} | {lstm.Flagged} |"));
        text.WriteLine(FormattableString.Invariant($"| logistic regression on 7 hand-made features | {logistic.Auc:F3} | {logistic.Precision:F3} | {logistic.Recall:F3} | {logistic.Flagged} |"));
        return text.ToString();
    }

    /// <summary>Logistic regression (Dense(1, sigmoid) on standardised features) with the same class weights; returns the model and the scaling.</summary>
    private static (Sequential Model, Func<Tensor, Tensor> Scale) TrainLogistic(CreditData.Set train, IReadOnlyDictionary<int, double> classWeight)
    {
        var features = HandFeatures.Compute(train.X);
        var mean = features.mean([0]).MoveToOuterDisposeScope();
        var std = features.std([0]).clamp_min(1e-6f).MoveToOuterDisposeScope();
        Tensor Scale(Tensor f) => (f - mean) / std;
        Utils.SetRandomSeed(8);
        var model = new Sequential([new Dense(1, activation: "sigmoid", inputShape: [HandFeatures.Names.Length])]);
        model.Compile(optimizer: new Adam(learningRate: 0.02), loss: "binary_crossentropy");
        model.Fit(Scale(features), train.Y, epochs: 60, batchSize: 256, classWeight: classWeight, verbose: 0);
        return (model, Scale);
    }

    private static string[] Top(Tensor groups)
    {
        var mean = groups.mean([0]).data<double>().ToArray();
        return [.. Enumerable.Range(0, mean.Length).OrderByDescending(g => mean[g]).Take(3).Select(GroupName)];
    }

    private static void WritePictures(Sequential model, Tensor x, Tensor background, string folder)
    {
        Directory.CreateDirectory(folder);
        var groups = Attributions.TimeWindowGroups(CreditData.Months, CreditData.Features.Length, Window);
        var names = Enumerable.Range(0, (int)groups.shape[0]).Select(GroupName).ToArray();
        var shap = Attributions.KernelShap(model, x, background, groups, samples: 1024, seed: 1);
        Plots.ShapSummary(Path.Combine(folder, "credit-shap-summary.png"), shap, featureNames: names, maxDisplay: 10,
            title: "Kernel SHAP over at-risk accounts (6-month windows)");
        Plots.ShapWaterfall(Path.Combine(folder, "credit-shap-waterfall.png"), shap[0], Attributions.BaseValue(model, background), featureNames: names,
            title: "Why account 0 is flagged (default probability)");
        var cells = Attributions.GradientShap(model, x, background, samples: 200, seed: 1);
        Plots.ShapHeatmap(Path.Combine(folder, "credit-gradientshap-heatmap.png"), cells, featureNames: CreditData.Features,
            title: "GradientSHAP, account 0 (month × feature)");
        var lime = Attributions.Lime(model, x[..1], segments: Window, samples: 2000, seed: 1, background: background.mean([0]));
        Plots.LimeBars(Path.Combine(folder, "credit-lime.png"), lime, featureNames: CreditData.Features, maxDisplay: 10);
    }

    private static double[] Doubles(Tensor t) => [.. t.to_type(ScalarType.Float64).reshape(-1).data<double>()];
}
