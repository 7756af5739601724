using SeqSharp.Optimizers.Schedules;

namespace SeqSharp.Tests.Optimizers.Schedules;

public class ConstantScheduleTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1_000_000)]
    public void Evaluate_AnyStep_ReturnsValue(long step)
    {
        Assert.Equal(0.025, new ConstantSchedule(0.025).Evaluate(step));
    }

    [Theory]
    [InlineData(-0.001)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Constructor_NegativeOrNonFinite_ThrowsWithValue(double rate)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new ConstantSchedule(rate));
        Assert.Equal("learningRate", e.ParamName);
        Assert.Contains("Received: learningRate=", e.Message);
    }

    [Fact]
    public void Constructor_Zero_IsAllowed()
    {
        Assert.Equal(0.0, new ConstantSchedule(0.0).Value);
    }
}
