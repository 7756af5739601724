using SeqSharp.Interpretability;
using SeqSharp.Plotting;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Plotting;

public class ExplanationPlotsTests
{
    private static void AssertRejected(Func<string, string> plot, params string[] messageParts)
    {
        using var temp = new TempFolder();
        string path = temp.File("bad.png");
        var error = Assert.ThrowsAny<ArgumentException>(() => plot(path));
        foreach (string part in messageParts)
            Assert.Contains(part, error.Message);
        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    private static LimeExplanation SomeLime()
    {
        manual_seed(81);
        var model = new Sequential([new SeqSharp.Layers.LSTM(3, inputShape: [6, 2], dtype: ScalarType.Float64), new SeqSharp.Layers.Dense(1, dtype: ScalarType.Float64)]);
        return Attributions.Lime(model, randn(2, 6, 2, dtype: ScalarType.Float64), segments: 2, samples: 60, seed: 1);
    }

    [Fact]
    public void ShapSummary_GroupsAndSequences_WritePngsOfRequestedSize()
    {
        using var temp = new TempFolder();
        manual_seed(82);
        var shap = randn(50, 6) * tensor(new[] { 1.0, 3, 0.2, 2, 0.5, 1 });
        string groups = Plots.ShapSummary(temp.File("g.png"), shap, featureValues: randn(50, 6), featureNames: ["a", "b", "c", "d", "e", "f"], width: 640, height: 400);
        string sequences = Plots.ShapSummary(temp.File("s.png"), randn(30, 12, 3), maxDisplay: 2);
        PngFile.AssertSize(groups, 640, 400);
        PngFile.AssertSize(sequences, 800, 450);
    }

    [Fact]
    public void ShapWaterfall_WritesPngOfRequestedSize()
    {
        using var temp = new TempFolder();
        string one = Plots.ShapWaterfall(temp.File("w.png"), tensor(new[] { 0.3, -0.1, 0.05, 0.02, -0.4 }), baseValue: 0.2, maxDisplay: 3, width: 600, height: 420);
        string grid = Plots.ShapWaterfall(temp.File("g.png"), randn(4, 3), baseValue: -1);
        PngFile.AssertSize(one, 600, 420);
        PngFile.AssertSize(grid, 800, 450);
    }

    [Fact]
    public void ShapHeatmapAndLimeBars_WritePngsOfRequestedSize()
    {
        using var temp = new TempFolder();
        string heat = Plots.ShapHeatmap(temp.File("h.png"), randn(3, 20, 4), sample: 1, featureNames: ["w", "x", "y", "z"], width: 500, height: 300);
        string bars = Plots.LimeBars(temp.File("l.png"), SomeLime(), sample: 1, featureNames: ["price", "volume"], maxDisplay: 4);
        PngFile.AssertSize(heat, 500, 300);
        PngFile.AssertSize(bars, 800, 450);
    }

    [Fact]
    public void ExplanationPlots_BadInput_ThrowExpectedAndReceivedAndWriteNothing()
    {
        AssertRejected(p => Plots.ShapSummary(p, randn(5)), "(samples, groups)", "Received: shape (5)");
        AssertRejected(p => Plots.ShapSummary(p, randn(5, 3), featureValues: randn(5, 2)), "shaped like 'shap'", "Received: shape (5, 2)");
        AssertRejected(p => Plots.ShapSummary(p, randn(5, 3), featureNames: ["a"]), "(3)", "Received: 1");
        AssertRejected(p => Plots.ShapSummary(p, tensor(new[,] { { 1.0, double.NaN } })), "finite", "NaN");
        AssertRejected(p => Plots.ShapWaterfall(p, zeros(0), 0), "at least one SHAP value");
        AssertRejected(p => Plots.ShapWaterfall(p, ones(3), double.PositiveInfinity), "finite base value");
        AssertRejected(p => Plots.ShapWaterfall(p, ones(3), 0, maxDisplay: 1), "maxDisplay=1");
        AssertRejected(p => Plots.ShapHeatmap(p, randn(2, 5, 3), sample: 2), "sample=2");
        AssertRejected(p => Plots.LimeBars(p, SomeLime(), sample: 5), "0 to 1", "sample=5");
        AssertRejected(p => Plots.LimeBars(p, SomeLime(), featureNames: ["only one"]), "(2)", "Received: 1");
    }

    [Fact]
    public void Waterfall_BarsChainFromBaseValueToOutput_LargestOnTop_RestCombined()
    {
        double[] values = [0.3, -0.1, 0.05, 0.02, -0.4];
        var steps = ExplanationLayout.Waterfall(values, ["a", "b", "c", "d", "e"], baseValue: 0.2, maxDisplay: 3);
        Assert.Equal(["3 other", "a", "e"], steps.Select(s => s.Name));
        Assert.Equal(0.2, steps[0].Start, 12);
        Assert.Equal(-0.1 + 0.05 + 0.02, steps[0].End - steps[0].Start, 12);
        for (int k = 1; k < steps.Count; k++)
            Assert.Equal(steps[k - 1].End, steps[k].Start, 12);
        Assert.Equal(0.2 + values.Sum(), steps[^1].End, 12);                  // f(x) = base + Σ SHAP
        var all = ExplanationLayout.Waterfall(values, ["a", "b", "c", "d", "e"], 0, maxDisplay: 10);
        Assert.Equal(["d", "c", "b", "a", "e"], all.Select(s => s.Name));      // smallest magnitude at the bottom
    }

    [Fact]
    public void SwarmOffsets_StayWithinTheRowAndSeparateCrowdedDots()
    {
        double[] values = [.. Enumerable.Repeat(1.0, 9), 5.0];
        var offsets = ExplanationLayout.SwarmOffsets(values, halfHeight: 0.4);
        Assert.All(offsets, o => Assert.InRange(o, -0.4, 0.4));
        Assert.Equal(9, offsets.Take(9).Distinct().Count());                 // nine equal values, nine heights
        Assert.Equal(0.0, offsets[9]);
        Assert.Equal([1, 0, 2], ExplanationLayout.ByMeanMagnitude(new double[,] { { 1, 2, 0 }, { -1, -2, 0.5 } }));
    }
}
