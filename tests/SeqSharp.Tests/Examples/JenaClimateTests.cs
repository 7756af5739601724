using SeqSharp.Examples.JenaClimate;

namespace SeqSharp.Tests.Examples;

[Collection(ExampleCollection.Name)]
public class JenaClimateTests
{
    [Fact]
    public void Run_TestForm_BeatsTheScriptsNaiveBaseline()
    {
        var log = new StringWriter();
        var result = ExampleCollection.SingleThreaded(() => JenaExample.Run(JenaOptions.Test, log));
        Assert.Equal(JenaOptions.Test.Epochs * JenaOptions.Test.StepsPerEpoch, result.Steps);
        Assert.True(result.ModelMae < 0.97 * result.NaiveMae, $"GRU MAE {result.ModelMae:F2} vs naive {result.NaiveMae:F2}");

        // The naive baseline by hand from the generated rows: |T[r + 144] − T[r − 6]| over the test windows.
        var rows = JenaLikeSeries.Generate(JenaExample.Days, JenaOptions.Test.Seed);
        var targets = Enumerable.Range(0, result.TestWindows).Select(k => JenaExample.ValidationEnd + JenaExample.Lookback + k * JenaExample.EvaluationStride).ToArray();
        Assert.True(targets[^1] + JenaExample.Delay < rows.GetLength(0));
        double naive = targets.Average(r => Math.Abs((double)rows[r + JenaExample.Delay, 1] - rows[r - JenaExample.Step, 1]));
        Assert.Equal(naive, result.NaiveMae, 9);
        Assert.Contains("(None, None, 32)", log.ToString());
    }

    [Fact]
    public void Series_ReadingsAgreeWithTheirPhysicalDefinitions()
    {
        var rows = JenaLikeSeries.Generate(30, seed: 3);
        Assert.Equal(new[] { 30 * 144, 14 }, new[] { rows.GetLength(0), rows.GetLength(1) });
        for (int i = 0; i < rows.GetLength(0); i += 37)
        {
            double p = rows[i, 0], t = rows[i, 1], dew = rows[i, 3];
            Assert.True(dew < t, $"row {i}: dew point {dew} not below temperature {t}");
            double vpMax = 6.1078 * Math.Exp(17.27 * t / (t + 237.3)), vpAct = 6.1078 * Math.Exp(17.27 * dew / (dew + 237.3));
            Assert.Equal(vpMax, rows[i, 5], 1e-3 * vpMax);
            Assert.Equal(vpAct, rows[i, 6], 1e-3 * vpAct);
            Assert.Equal(100 * vpAct / vpMax, rows[i, 4], 1e-2);
            Assert.Equal((t + 273.15) * Math.Pow(1000 / p, 0.2857), rows[i, 2], 1e-3);
            Assert.InRange(p, 940, 1040);
            Assert.InRange(rows[i, 13], 0, 360);
            Assert.True(rows[i, 12] >= rows[i, 11]);
        }
        // The afternoon is warmer than the night on average (the daily cycle: ±1 °C in January), and winter is cold.
        double Mean(Func<int, bool> keep) => Enumerable.Range(0, rows.GetLength(0)).Where(keep).Average(i => rows[i, 1]);
        Assert.True(Mean(i => i % 144 / 6 == 15) > Mean(i => i % 144 / 6 == 3) + 1);
        Assert.InRange(Mean(_ => true), -5, 8);
    }

    [Fact]
    public void GeneratorAndWindows_TargetIsTheTemperatureADayAfterTheWindow()
    {
        var rows = JenaLikeSeries.Generate(40, seed: 5);
        var data = tensor(rows);
        int n = rows.GetLength(0);

        var (x, y) = JenaExample.Generator(data, 0, 20 * 144, 8, new Random(1)).First();
        Assert.Equal(new long[] { 8, JenaExample.TimeSteps, JenaExample.Features }, x.shape);
        Assert.Equal(new long[] { 8, 1 }, y.shape);
        for (int j = 0; j < 8; j++)
        {
            // Find the row r from the window's last sample (row r − 6) and check the rest.
            float[] last = [x[j, ^1, 0].item<float>(), x[j, ^1, 1].item<float>(), x[j, ^1, 13].item<float>()];
            int r = Enumerable.Range(JenaExample.Lookback, 20 * 144 - JenaExample.Lookback)
                .Single(i => rows[i - JenaExample.Step, 0] == last[0] && rows[i - JenaExample.Step, 1] == last[1] && rows[i - JenaExample.Step, 13] == last[2]);
            Assert.Equal(rows[r - JenaExample.Lookback, 0], x[j, 0, 0].item<float>());
            Assert.Equal(rows[r - JenaExample.Lookback + JenaExample.Step, 13], x[j, 1, 13].item<float>());
            Assert.Equal(rows[r + JenaExample.Delay, 1], y[j, 0].item<float>());
        }

        using var windows = JenaExample.Windows(data, JenaExample.Lookback + 100, n - JenaExample.Delay);
        Assert.Equal((n - JenaExample.Delay - JenaExample.Lookback - 100 + JenaExample.EvaluationStride - 1) / JenaExample.EvaluationStride, windows.Count);
        var batch = windows.GetBatch(0);
        int first = JenaExample.Lookback + 100, second = first + JenaExample.EvaluationStride;
        Assert.Equal(rows[first + JenaExample.Delay, 1], batch.Y![0, 0].item<float>());
        Assert.Equal(rows[first - JenaExample.Step, 0], batch.X[0, ^1, 0].item<float>());
        Assert.Equal(rows[first - JenaExample.Lookback, 0], batch.X[0, 0, 0].item<float>());
        Assert.Equal(rows[second + JenaExample.Delay, 1], batch.Y![1, 0].item<float>());
        Assert.Equal(rows[second - JenaExample.Step, 3], batch.X[1, ^1, 3].item<float>());
    }
}
