using System.Diagnostics;
using System.Globalization;
using SeqSharp.Interpretability;
using static TorchSharp.torch;

namespace SeqSharp.Examples.CreditRisk;

/// <summary>One explanation method on one problem: its share of attribution on the true causes, its run time, and its group-level attributions.</summary>
/// <param name="Method">The method's name.</param>
/// <param name="CauseShare">Mean over the explained samples of the share of |attribution| that falls on the groups holding the true causes.</param>
/// <param name="SecondsPerSample">Wall-clock time of the call divided by the samples explained.</param>
/// <param name="Groups">|attribution| per sample and group, <c>(n, groups)</c>, float64.</param>
public sealed record MethodResult(string Method, double CauseShare, double SecondsPerSample, Tensor Groups);

/// <summary>What the comparison runs each method with.</summary>
/// <param name="ShapSamples">Kernel SHAP coalitions.</param>
/// <param name="GradientShapSamples">GradientSHAP draws.</param>
/// <param name="LimeSamples">LIME perturbations.</param>
/// <param name="IgSteps">Integrated-gradients intervals.</param>
/// <param name="PermutationRepeats">Permutation-importance shuffles per feature.</param>
public sealed record ComparisonSettings(int ShapSamples, int GradientShapSamples, int LimeSamples, int IgSteps, int PermutationRepeats);

/// <summary>
/// Runs every attribution method of <see cref="Attributions"/> on the same samples and scores them
/// against known causes at the resolution of groups of (time step, feature) cells, the players of
/// Kernel SHAP: an additive method's group value is |Σ of its cells| (the group's contribution);
/// saliency's is Σ |cells| (a gradient has no sign of contribution); LIME's is |its coefficient|;
/// permutation importance, one number per feature for the whole data set, is spread evenly over
/// the feature's groups.
/// </summary>
public static class MethodComparison
{
    /// <summary>The methods in table order.</summary>
    public static readonly string[] Methods = ["saliency", "gradient × input", "integrated gradients", "occlusion", "permutation", "Kernel SHAP", "GradientSHAP", "LIME"];

    /// <param name="model">The trained model, one output per sample.</param>
    /// <param name="x">Samples to explain <c>(n, T, F)</c>.</param>
    /// <param name="y">Their targets (for permutation importance).</param>
    /// <param name="background">Reference samples; their mean is the baseline of integrated gradients, occlusion and LIME.</param>
    /// <param name="window">Steps per group; groups are (window, feature) pairs when <paramref name="perFeature"/>, else windows.</param>
    /// <param name="perFeature">Whether each feature's window is its own group.</param>
    /// <param name="causes">Which groups hold a true cause, per sample, <c>(n, groups)</c> bool.</param>
    /// <param name="settings">Sample counts.</param>
    /// <param name="loss">The loss for permutation importance.</param>
    public static IReadOnlyList<MethodResult> Run(Sequential model, Tensor x, Tensor y, Tensor background, int window, bool perFeature, Tensor causes,
        ComparisonSettings settings, string loss)
    {
        long n = x.shape[0], steps = x.shape[1], features = x.shape[2];
        var groups = Attributions.TimeWindowGroups(steps, features, window, perFeature);           // (G, T, F)
        var groupCells = groups.to_type(ScalarType.Float64).reshape(groups.shape[0], -1);          // (G, cells)
        var mean = background.mean([0]);
        Tensor Additive(Tensor cells) => cells.to_type(ScalarType.Float64).reshape(n, -1).matmul(groupCells.t()).abs();
        var results = new List<MethodResult>();

        void Add(string name, Func<Tensor> explain)
        {
            var clock = Stopwatch.StartNew();
            var values = explain();
            double seconds = clock.Elapsed.TotalSeconds / n;
            var share = ((values * causes.to_type(ScalarType.Float64)).sum([1]) / values.sum([1]).clamp_min(1e-12)).mean().item<double>();
            results.Add(new MethodResult(name, share, seconds, values));
        }

        Add("saliency", () => Attributions.Saliency(model, x).abs().to_type(ScalarType.Float64).reshape(n, -1).matmul(groupCells.t()));
        Add("gradient × input", () => Additive(Attributions.GradientTimesInput(model, x)));
        Add("integrated gradients", () => Additive(Attributions.IntegratedGradients(model, x, mean, steps: settings.IgSteps)));
        Add("occlusion", () => Additive(Attributions.Occlusion(model, x, window: 1, baseline: mean)) / features);
        Add("permutation", () =>
        {
            var importance = Attributions.PermutationImportance(model, x, y, loss: loss, repeats: settings.PermutationRepeats, seed: 1).to_type(ScalarType.Float64).clamp_min(0);
            var perCell = importance.expand(steps, features).reshape(-1);                                   // spread over time
            var perGroup = groupCells.matmul(perCell) / groupCells.sum([1]);
            return perGroup.unsqueeze(0).expand(n, -1).contiguous();
        });
        Add("Kernel SHAP", () => Attributions.KernelShap(model, x, background, groups, samples: settings.ShapSamples, seed: 1).to_type(ScalarType.Float64).abs());
        Add("GradientSHAP", () => Additive(Attributions.GradientShap(model, x, background, samples: settings.GradientShapSamples, seed: 1)));
        Add("LIME", () => Attributions.Lime(model, x, segments: window, samples: settings.LimeSamples, seed: 1, background: mean, perFeature: perFeature)
            .Coefficients.to_type(ScalarType.Float64).reshape(n, -1).abs());
        return results;
    }

    /// <summary>Spearman rank correlation of two methods' group values, per sample, averaged over samples (ties get average ranks).</summary>
    public static double RankAgreement(Tensor a, Tensor b)
    {
        long n = a.shape[0];
        double total = 0;
        for (long i = 0; i < n; i++)
            total += Pearson(Ranks(a[i].data<double>().ToArray()), Ranks(b[i].data<double>().ToArray()));
        return total / n;
    }

    /// <summary>The comparison as a Markdown table: share on true causes, time per sample, rank agreement with Kernel SHAP.</summary>
    public static string Markdown(IReadOnlyList<MethodResult> results, string chance)
    {
        var shap = results.Single(r => r.Method == "Kernel SHAP").Groups;
        var text = new StringWriter(CultureInfo.InvariantCulture);
        text.WriteLine($"| method | share on true causes (chance {chance}) | time per sample | rank agreement with Kernel SHAP (Spearman) |");
        text.WriteLine("|---|---:|---:|---:|");
        foreach (var r in results)
            text.WriteLine(FormattableString.Invariant($"| {r.Method} | {r.CauseShare:P0} | {Time(r.SecondsPerSample)} | {RankAgreement(r.Groups, shap):F2} |"));
        return text.ToString();
    }

    /// <summary>Every pair's rank agreement as a Markdown matrix.</summary>
    public static string AgreementMatrix(IReadOnlyList<MethodResult> results)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        text.WriteLine("| | " + string.Join(" | ", results.Select(r => r.Method)) + " |");
        text.WriteLine("|---|" + string.Concat(results.Select(_ => "---:|")));
        foreach (var a in results)
            text.WriteLine($"| {a.Method} | " + string.Join(" | ", results.Select(b => RankAgreement(a.Groups, b.Groups).ToString("F2", CultureInfo.InvariantCulture))) + " |");
        return text.ToString();
    }

    private static string Time(double seconds) =>
        seconds >= 1 ? FormattableString.Invariant($"{seconds:F1} s") : FormattableString.Invariant($"{seconds * 1000:F1} ms");

    private static double[] Ranks(double[] values)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]])
                end++;
            for (int k = start; k <= end; k++)
                ranks[order[k]] = (start + end) / 2.0;
            start = end + 1;
        }
        return ranks;
    }

    private static double Pearson(double[] a, double[] b)
    {
        double ma = a.Average(), mb = b.Average();
        double cov = 0, va = 0, vb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            cov += (a[i] - ma) * (b[i] - mb);
            va += (a[i] - ma) * (a[i] - ma);
            vb += (b[i] - mb) * (b[i] - mb);
        }
        return va == 0 || vb == 0 ? 0 : cov / Math.Sqrt(va * vb);
    }
}
