using SeqSharp.Optimizers.Schedules;

namespace SeqSharp.Tests.Optimizers.Schedules;

public class PiecewiseConstantDecayTests
{
    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(10, 1.0)]    // boundaries belong to the interval before them (step <= boundary)
    [InlineData(11, 0.5)]
    [InlineData(20, 0.5)]
    [InlineData(21, 0.1)]
    [InlineData(1000, 0.1)]
    public void Evaluate_Step_PicksValueOfItsInterval(long step, double expected)
    {
        Assert.Equal(expected, new PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]).Evaluate(step));
    }

    [Fact]
    public void Constructor_ValuesNotOneMoreThanBoundaries_ThrowsWithLengths()
    {
        var e = Assert.Throws<ArgumentException>(() => new PiecewiseConstantDecay([10, 20], [1.0, 0.5]));
        Assert.Contains("boundaries=[10, 20] of length 2", e.Message);
        Assert.Contains("of length 2.", e.Message);
    }

    [Fact]
    public void Constructor_NoBoundaries_Throws()
    {
        Assert.Throws<ArgumentException>(() => new PiecewiseConstantDecay([], [1.0]));
    }

    [Fact]
    public void Constructor_BoundariesNotIncreasing_ThrowsWithBoundaries()
    {
        var e = Assert.Throws<ArgumentException>(() => new PiecewiseConstantDecay([10, 10], [1.0, 0.5, 0.1]));
        Assert.Contains("boundaries=[10, 10]", e.Message);
    }

    [Fact]
    public void Constructor_NegativeValue_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PiecewiseConstantDecay([10], [1.0, -0.5]));
    }

    [Fact]
    public void Constructor_ListsChangedLater_ScheduleUnaffected()
    {
        var boundaries = new List<long> { 10 };
        var values = new List<double> { 1.0, 0.5 };
        var schedule = new PiecewiseConstantDecay(boundaries, values);
        boundaries[0] = 0;
        values[0] = 9.0;
        Assert.Equal(1.0, schedule.Evaluate(5));
    }

    [Fact]
    public void GetConfig_HasKerasKeys()
    {
        var schedule = new PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]);
        Assert.Equal("PiecewiseConstantDecay", schedule.ClassName);
        var config = schedule.GetConfig();
        Assert.Equal(new List<long> { 10, 20 }, config["boundaries"]);
        Assert.Equal(new List<double> { 1.0, 0.5, 0.1 }, config["values"]);
        Assert.Equal("PiecewiseConstant", config["name"]);
    }
}
