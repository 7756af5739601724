using SeqSharp.Optimizers.Schedules;

namespace SeqSharp.Tests.Optimizers.Schedules;

public class ExponentialDecayTests
{
    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(5, 0.07071067811865477)]   // 0.1 · 0.5^0.5
    [InlineData(7, 0.06155722066724582)]   // 0.1 · 0.5^0.7
    [InlineData(10, 0.05)]
    [InlineData(25, 0.01767766952966369)]  // 0.1 · 0.5^2.5
    public void Evaluate_Continuous_IsInitialTimesRateToStepOverDecaySteps(long step, double expected)
    {
        Assert.Equal(expected, new ExponentialDecay(0.1, decaySteps: 10, decayRate: 0.5).Evaluate(step), 1e-15);
    }

    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(9, 0.1)]
    [InlineData(10, 0.05)]
    [InlineData(19, 0.05)]
    [InlineData(25, 0.025)]
    public void Evaluate_Staircase_DecaysOnlyEveryDecaySteps(long step, double expected)
    {
        Assert.Equal(expected, new ExponentialDecay(0.1, decaySteps: 10, decayRate: 0.5, staircase: true).Evaluate(step), 1e-15);
    }

    [Fact]
    public void Constructor_NonPositiveDecaySteps_ThrowsWithValue()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialDecay(0.1, decaySteps: 0, decayRate: 0.5));
        Assert.Equal("decaySteps", e.ParamName);
        Assert.Contains("Received: decaySteps=0", e.Message);
    }

    [Theory]
    [InlineData(-0.1, 0.5, "initialLearningRate")]
    [InlineData(double.NaN, 0.5, "initialLearningRate")]
    [InlineData(0.1, -0.5, "decayRate")]
    [InlineData(0.1, double.PositiveInfinity, "decayRate")]
    public void Constructor_BadRate_ThrowsNamingIt(double initial, double decayRate, string parameter)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialDecay(initial, 10, decayRate));
        Assert.Equal(parameter, e.ParamName);
    }

    [Fact]
    public void Evaluate_NegativeStep_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialDecay(0.1, 10, 0.5).Evaluate(-1));
    }

    [Fact]
    public void GetConfig_HasKerasKeys()
    {
        var schedule = new ExponentialDecay(0.1, 100, 0.96, staircase: true);
        Assert.Equal("ExponentialDecay", schedule.ClassName);
        var config = schedule.GetConfig();
        Assert.Equal(0.1, config["initial_learning_rate"]);
        Assert.Equal(100L, config["decay_steps"]);
        Assert.Equal(0.96, config["decay_rate"]);
        Assert.Equal(true, config["staircase"]);
        Assert.Equal("ExponentialDecay", config["name"]);
    }
}
