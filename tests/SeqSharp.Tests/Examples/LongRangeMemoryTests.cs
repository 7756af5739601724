using SeqSharp.Examples.LongRangeMemory;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Examples;

[Collection(ExampleCollection.Name)]
public class LongRangeMemoryTests
{
    [Fact]
    public void Run_SmallForm_LstmBeatsTheMeanPredictorAndWritesTables()
    {
        var models = new Dictionary<string, Sequential>();
        Tensor? xTest = null;
        var rows = ExampleCollection.SingleThreaded(() => LongRangeExample.Run(LongRangeOptions.Small, new StringWriter(), (_, name, model, x) =>
        {
            models[name] = model;
            xTest = x;
        }));
        Assert.Equal(["SimpleRNN", "LSTM"], rows.Select(r => r.Model));
        var lstm = rows.Single(r => r.Model == "LSTM");
        Assert.Equal(10, lstm.Steps);
        Assert.InRange(lstm.BaselineMse, 0.12, 0.22);          // 2/12 up to sampling noise
        Assert.True(lstm.TestMse < 0.5 * lstm.BaselineMse, $"LSTM test MSE {lstm.TestMse:F4} vs mean predictor {lstm.BaselineMse:F4}");

        using var folder = new TempFolder();
        var (md, csv, png) = LongRangeExample.Write(rows, folder.Path);
        Assert.Contains("| 10 |", File.ReadAllText(md));
        var lines = File.ReadAllLines(csv);
        Assert.Equal("T,model,test_mse,baseline_mse,train_seconds", lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, File.ReadAllBytes(png)[..4]);   // a PNG

        // Looking inside: the trained LSTM puts far more of its attribution on the two marked steps
        // than an even spread over T = 10 steps would (2/10), and the three pictures are written.
        var shares = ExampleCollection.SingleThreaded(() => LongRangeExample.Inspect(models, xTest!, folder.Path, new StringWriter()));
        Assert.Equal(["SimpleRNN", "LSTM"], shares.Keys);
        Assert.True(shares["LSTM"] > 0.3, $"LSTM's share on the marked steps {shares["LSTM"]:P0}");
        foreach (var picture in new[] { "long-range-input-gate.png", "long-range-cell.png", "long-range-attribution.png" })
            Assert.True(new FileInfo(Path.Combine(folder.Path, picture)).Length > 1000, picture);
    }

    [Fact]
    public void Generate_TwoMarkersOneInEachHalfAndTheirSum()
    {
        var (x, y) = AddingProblem.Generate(200, 9);
        Assert.Equal(new long[] { 200, 9, 2 }, x.shape);
        Assert.Equal(new long[] { 200, 1 }, y.shape);
        var markers = x[.., .., 1];
        Assert.True(markers[.., ..4].sum(1).eq(1).all().item<bool>());     // first half: steps 0 .. 3
        Assert.True(markers[.., 4..].sum(1).eq(1).all().item<bool>());     // second half: steps 4 .. 8
        var sum = (x[.., .., 0] * markers).sum(1, keepdim: true);
        Assert.True(sum.allclose(y));
        Assert.InRange(x[.., .., 0].min().item<float>(), 0f, 1f);
        Assert.InRange(x[.., .., 0].max().item<float>(), 0f, 1f);
    }
}
