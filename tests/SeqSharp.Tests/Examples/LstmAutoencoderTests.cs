using SeqSharp.Examples.LstmAutoencoder;

namespace SeqSharp.Tests.Examples;

[Collection(ExampleCollection.Name)]
public class LstmAutoencoderTests
{
    [Fact]
    public void Run_SmallForm_DetectsAnomaliesFarMoreOftenThanItRaisesFalseAlarms()
    {
        var log = new StringWriter();
        var result = ExampleCollection.SingleThreaded(() => AutoencoderExample.Run(AutoencoderOptions.Small, log));
        Assert.True(result.FalseAlarmRate <= 0.05, $"false alarms {result.FalseAlarmRate:P1}");
        Assert.True(result.DetectionRate >= 0.3, $"detection {result.DetectionRate:P1}");
        Assert.True(result.DetectionByKind[Anomaly.Flatline] >= 0.8, $"flatline detection {result.DetectionByKind[Anomaly.Flatline]:P1}");
        Assert.Contains("(RepeatVector)", log.ToString());
        Assert.Contains("Threshold:", log.ToString());
    }

    [Fact]
    public void Generate_NormalSequencesStayInTheOperatingBand()
    {
        var normal = SignalData.Generate(50, Anomaly.None, new Random(1));
        Assert.Equal(new long[] { 50, SignalData.Steps, 1 }, normal.shape);
        Assert.True(normal.abs().max().item<float>() < 1.5f);
        var shifted = SignalData.Generate(50, Anomaly.LevelShift, new Random(1));
        Assert.True(shifted.mean().item<float>() > normal.mean().item<float>() + 0.05);
    }
}
