using SeqSharp.Examples.CnnLstmForecast;

namespace SeqSharp.Tests.Examples;

[Collection(ExampleCollection.Name)]
public class CnnLstmForecastTests
{
    [Fact]
    public void Run_SmallForm_BeatsBothNaiveForecasts()
    {
        var log = new StringWriter();
        var result = ExampleCollection.SingleThreaded(() => ForecastExample.Run(ForecastOptions.Small, log));
        Assert.True(result.ModelRmse < result.SeasonalRmse, $"model RMSE {result.ModelRmse:F2} vs same-hours-yesterday {result.SeasonalRmse:F2}");
        Assert.True(result.ModelRmse < 0.6 * result.PersistenceRmse, $"model RMSE {result.ModelRmse:F2} vs persistence {result.PersistenceRmse:F2}");
        Assert.Equal(ForecastExample.Horizon, result.ModelRmseByHour.Length);
        string text = log.ToString();
        Assert.Contains("(Conv1D)", text);
        Assert.Contains("naive: same hours yesterday", text);
    }

    [Fact]
    public void Windows_TargetsAreTheDemandRightAfterEachWindow()
    {
        var series = tensor(DemandData.Generate(60, seed: 1));
        var (x, y) = DemandData.Windows(series, window: 48, horizon: 6);
        Assert.Equal(new long[] { 7, 48, 2 }, x.shape);
        Assert.Equal(new long[] { 7, 6 }, y.shape);
        Assert.Equal(series[50, 1].item<float>(), y[2, 0].item<float>());
        Assert.Equal(series[2 + 47, 0].item<float>(), x[2, 47, 0].item<float>());
    }
}
