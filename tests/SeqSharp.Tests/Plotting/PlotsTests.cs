using SeqSharp.Plotting;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Plotting;

public class PlotsTests
{
    private static double[] Ramp(int n, double scale = 1) => [.. Enumerable.Range(0, n).Select(i => scale * (i + 1))];

    /// <summary>Runs a call that must fail, and checks the message and that no file appeared.</summary>
    private static void AssertRejected(Func<string, string> plot, params string[] messageParts)
    {
        using var temp = new TempFolder();
        string path = temp.File("bad.png");

        var error = Assert.ThrowsAny<ArgumentException>(() => plot(path));

        foreach (string part in messageParts)
            Assert.Contains(part, error.Message);
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void PredictionsVsTargets_TensorsWithBaseline_WritesPngOfRequestedSize()
    {
        using var temp = new TempFolder();
        var actual = sin(linspace(0, 6, 40)).unsqueeze(1);        // (40, 1), as Dense(1) outputs
        var predicted = actual * 0.9;

        string written = Plots.PredictionsVsTargets(temp.File("pred.png"), predicted, actual, title: "Test set",
            extraSeries: new Dictionary<string, double[]> { ["naive"] = Ramp(40, 0.01) }, width: 640, height: 360);

        Assert.Equal(temp.File("pred.png"), written);
        PngFile.AssertSize(written, 640, 360);
    }

    [Fact]
    public void PredictionsVsTargets_ArraysWithTimeAxis_WritesPngOfDefaultSize()
    {
        using var temp = new TempFolder();

        string written = Plots.PredictionsVsTargets(temp.File("pred.png"), Ramp(5), Ramp(5, 2), x: [2000, 2001, 2002, 2003, 2004], xLabel: "year");

        PngFile.AssertSize(written, 800, 450);
    }

    [Fact]
    public void PredictionsVsTargets_BadInput_ThrowsExpectedAndReceivedAndWritesNothing()
    {
        AssertRejected(p => Plots.PredictionsVsTargets(p, zeros(4, 3), zeros(4)), "shape (n) or (n, 1)", "Received: shape (4, 3)");
        AssertRejected(p => Plots.PredictionsVsTargets(p, zeros(0), zeros(0)), "non-empty", "Received: shape (0)");
        AssertRejected(p => Plots.PredictionsVsTargets(p, Ramp(4), Ramp(5)), "as many values as 'predicted' (4)", "Received: 5");
        AssertRejected(p => Plots.PredictionsVsTargets(p, Ramp(4), Ramp(4), x: Ramp(3)), "'x'", "Received: 3");
        AssertRejected(p => Plots.PredictionsVsTargets(p, Ramp(4), Ramp(4), extraSeries: new Dictionary<string, double[]> { ["naive"] = Ramp(2) }),
            "extraSeries[naive]", "Received: 2");
        AssertRejected(p => Plots.PredictionsVsTargets(p, Ramp(4), Ramp(4), width: 0), "Received: width=0");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Lines_ThreeSeries_WritesPngOfRequestedSize(bool logY)
    {
        using var temp = new TempFolder();
        var series = new Dictionary<string, double[]>
        {
            ["SimpleRNN"] = [0.01, 0.2, 0.9],
            ["LSTM"] = [0.005, 0.01, 0.03],
            ["baseline"] = [1, 1, 1],
        };

        string written = Plots.Lines(temp.File("mse.png"), [10, 50, 100], series, "MSE against sequence length",
            "sequence length", "MSE", logY, width: 700, height: 400);

        PngFile.AssertSize(written, 700, 400);
    }

    [Fact]
    public void Lines_BadInput_ThrowsExpectedAndReceivedAndWritesNothing()
    {
        AssertRejected(p => Plots.Lines(p, [1, 2], new Dictionary<string, double[]>()), "at least one named series", "Received: none");
        AssertRejected(p => Plots.Lines(p, [], new Dictionary<string, double[]> { ["a"] = [] }), "'xs'", "Received: an empty array");
        AssertRejected(p => Plots.Lines(p, [1, 2], new Dictionary<string, double[]> { ["a"] = [1, 2, 3] }), "series[a]", "Received: 3");
        AssertRejected(p => Plots.Lines(p, [1, 2], new Dictionary<string, double[]> { ["a"] = [1, 0] }, logY: true),
            "positive values on a logarithmic y axis", "Received: 0 in 'a'");
    }

    [Fact]
    public void Heatmap_TensorAndArray_WritePngsOfRequestedSize()
    {
        using var temp = new TempFolder();

        string fromTensor = Plots.Heatmap(temp.File("t.png"), randn(40, 25), "Hidden state", yLabel: "unit", width: 500, height: 300);
        string fromArray = Plots.Heatmap(temp.File("a.png"), new double[,] { { 1, 2, 3 }, { 4, 5, 6 } }, "Small");

        PngFile.AssertSize(fromTensor, 500, 300);
        PngFile.AssertSize(fromArray, 800, 450);
    }

    [Fact]
    public void Heatmap_BadInput_ThrowsExpectedAndReceivedAndWritesNothing()
    {
        AssertRejected(p => Plots.Heatmap(p, zeros(2, 3, 4)), "2-D tensor (rows, columns)", "Received: shape (2, 3, 4)");
        AssertRejected(p => Plots.Heatmap(p, zeros(0, 3)), "non-empty", "Received: shape (0, 3)");
        AssertRejected(p => Plots.Heatmap(p, new double[,] { { 1, double.NaN } }), "finite", "Received: NaN");
    }

    [Fact]
    public void GateHeatmap_BatchAndSingleSequence_WritePngsOfRequestedSize()
    {
        using var temp = new TempFolder();
        var gate = sigmoid(randn(3, 20, 8));           // (batch, timesteps, units)

        string batch = Plots.GateHeatmap(temp.File("b.png"), gate, sample: 2, title: "Forget gate", width: 600, height: 350);
        string single = Plots.GateHeatmap(temp.File("s.png"), gate[0]);

        PngFile.AssertSize(batch, 600, 350);
        PngFile.AssertSize(single, 800, 450);
    }

    [Fact]
    public void GateHeatmap_BadInput_ThrowsExpectedAndReceivedAndWritesNothing()
    {
        AssertRejected(p => Plots.GateHeatmap(p, zeros(20)), "(batch, timesteps, units) or (timesteps, units)", "Received: shape (20)");
        AssertRejected(p => Plots.GateHeatmap(p, zeros(2, 5, 3), sample: 2), "from 0 to 1", "Received: sample=2");
        AssertRejected(p => Plots.GateHeatmap(p, zeros(5, 3), sample: 1), "sample=0 for a 2-D 'gate'", "Received: sample=1");
        AssertRejected(p => Plots.GateHeatmap(p, full(2, 5, 3, float.PositiveInfinity)), "finite", "Received: Infinity");
    }

    [Fact]
    public void AttributionHeatmap_NamedFeatures_WritesPngOfRequestedSize()
    {
        using var temp = new TempFolder();
        var attribution = randn(2, 30, 3, dtype: ScalarType.Float64);   // (batch, timesteps, features)

        string written = Plots.AttributionHeatmap(temp.File("attr.png"), attribution, sample: 1, featureNames: ["price", "volume", "weekday"],
            width: 900, height: 300);

        PngFile.AssertSize(written, 900, 300);
    }

    [Fact]
    public void AttributionHeatmap_AllZero_WritesPng()
    {
        using var temp = new TempFolder();

        PngFile.AssertSize(Plots.AttributionHeatmap(temp.File("zero.png"), zeros(10, 2)), 800, 450);
    }

    [Fact]
    public void AttributionHeatmap_BadInput_ThrowsExpectedAndReceivedAndWritesNothing()
    {
        AssertRejected(p => Plots.AttributionHeatmap(p, zeros(10, 3), featureNames: ["a", "b"]), "one name per feature (3)", "Received: 2");
        AssertRejected(p => Plots.AttributionHeatmap(p, zeros(1, 2, 3, 4)), "(batch, timesteps, features)", "Received: shape (1, 2, 3, 4)");
        AssertRejected(p => Plots.AttributionHeatmap(p, zeros(2, 0, 3)), "non-empty", "Received: shape (2, 0, 3)");
    }
}
