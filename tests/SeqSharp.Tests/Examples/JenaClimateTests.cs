using SeqSharp.Examples.JenaClimate;

namespace SeqSharp.Tests.Examples;

[Collection(ExampleCollection.Name)]
public class JenaClimateTests
{
    private static readonly double[] Passengers = SeqSharp.Data.Csv.LoadColumn(JenaExample.DataPath, "passengers");

    [Fact]
    public void Run_TestForm_BeatsTheScriptsNaiveBaseline()
    {
        var log = new StringWriter();
        var result = ExampleCollection.SingleThreaded(() => JenaExample.Run(JenaOptions.Test, log));
        Assert.Equal(JenaOptions.Test.Epochs * JenaOptions.Test.StepsPerEpoch, result.Steps);
        Assert.True(result.ModelMae < 0.75 * result.NaiveMae, $"GRU MAE {result.ModelMae:F1} vs naive {result.NaiveMae:F1}");
        // The naive baseline by hand from the CSV: mean |y[t] − y[t−1]| over 1959-1960 (months 120..143).
        double naive = Enumerable.Range(120, 24).Average(t => Math.Abs(Passengers[t] - Passengers[t - 1]));
        Assert.Equal(naive, result.NaiveMae, 9);
        Assert.Contains("(None, None, 32)", log.ToString());
    }

    [Fact]
    public void GeneratorAndWindows_TargetIsTheMonthAfterTheWindow()
    {
        var rows = JenaExample.Rows(Passengers);
        Assert.Equal(Math.Log(118.0 / 112.0), rows[0, 0], 12);           // 1949-02 over 1949-01
        Assert.Equal(Math.Sin(2 * Math.PI * 1 / 12), rows[0, 1], 12);    // February
        var data = tensor(rows).to_type(ScalarType.Float32);

        var (x, y) = JenaExample.Generator(data, 0, 107, 8, new Random(1)).First();
        Assert.Equal(new long[] { 8, JenaExample.Lookback, JenaExample.Features }, x.shape);
        Assert.Equal(new long[] { 8, 1 }, y.shape);
        for (int j = 0; j < 8; j++)
        {
            // Find the target row r from the value and check the window is rows r − 24 … r − 1.
            int r = Enumerable.Range(JenaExample.Lookback, 107 - JenaExample.Lookback)
                .First(i => (float)rows[i, 0] == y[j, 0].item<float>() && (float)rows[i - 1, 0] == x[j, ^1, 0].item<float>());
            Assert.Equal((float)rows[r - JenaExample.Lookback, 0], x[j, 0, 0].item<float>());
        }

        using var test = JenaExample.Windows(data, 119, 143);
        Assert.Equal(24, test.Count);
        var batch = test.GetBatch(0);
        Assert.Equal((float)rows[119, 0], batch.Y![0, 0].item<float>());        // 1959-01's growth
        Assert.Equal((float)rows[118, 0], batch.X[0, ^1, 0].item<float>());      // the window ends at 1958-12
        Assert.Equal((float)rows[95, 0], batch.X[0, 0, 0].item<float>());        // and starts 24 months earlier
    }
}
