using SeqSharp.Examples.AirlinePassengers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Examples;

[Collection(ExampleCollection.Name)]
public class AirlinePassengersTests
{
    [Fact]
    public void Run_SmallForm_BeatsSeasonalNaiveAndMean()
    {
        var log = new StringWriter();
        using var folder = new TempFolder();
        string plot = folder.File("forecast.png");
        var result = ExampleCollection.SingleThreaded(() => AirlineExample.Run(AirlineOptions.Small, log, plotPath: plot));
        Assert.Equal(AirlineExample.TestMonths, result.Predicted.Length);
        Assert.Equal(360.0, result.Actual[0]);                 // 1959-01 in the CSV
        Assert.Equal(340.0, result.SeasonalNaive[0]);          // 1958-01
        Assert.True(result.ModelRmse < 0.25 * result.MeanRmse, $"model RMSE {result.ModelRmse:F1} vs training mean {result.MeanRmse:F1}");
        Assert.True(result.ModelRmse < result.SeasonalNaiveRmse, $"model RMSE {result.ModelRmse:F1} vs seasonal naive {result.SeasonalNaiveRmse:F1}");
        Assert.Contains("seasonal naive (last year)", log.ToString());
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, File.ReadAllBytes(plot)[..4]);   // a PNG
    }
}
