using SeqSharp.Optimizers.Schedules;

namespace SeqSharp.Tests.Optimizers.Schedules;

public class CosineDecayTests
{
    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(3, 0.8145033635316129)]   // 0.9 · 0.5 (1 + cos(0.3π)) + 0.1
    [InlineData(5, 0.55)]
    [InlineData(10, 0.1)]
    [InlineData(20, 0.1)]                 // held at alpha after decaySteps
    public void Evaluate_NoWarmup_DecaysFromInitialToAlphaTimesInitial(long step, double expected)
    {
        Assert.Equal(expected, new CosineDecay(1.0, decaySteps: 10, alpha: 0.1).Evaluate(step), 1e-15);
    }

    [Theory]
    [InlineData(0, 0.5)]
    [InlineData(1, 0.875)]                // 0.5 + 1.5 · 1/4
    [InlineData(2, 1.25)]
    [InlineData(4, 2.0)]                  // warmup done: decay starts from the target
    [InlineData(7, 1.5061467458920719)]   // 2 (0.8 · 0.5 (1 + cos(3π/8)) + 0.2)
    [InlineData(8, 1.2)]
    [InlineData(12, 0.4)]
    [InlineData(100, 0.4)]
    public void Evaluate_Warmup_RisesLinearlyToTargetThenDecaysFromIt(long step, double expected)
    {
        var schedule = new CosineDecay(0.5, decaySteps: 8, alpha: 0.2, warmupTarget: 2.0, warmupSteps: 4);
        Assert.Equal(expected, schedule.Evaluate(step), 1e-15);
    }

    [Fact]
    public void Evaluate_WarmupTargetWithoutWarmupSteps_DecaysFromTarget()
    {
        var schedule = new CosineDecay(0.5, decaySteps: 10, warmupTarget: 1.0);
        Assert.Equal(1.0, schedule.Evaluate(0), 1e-15);
        Assert.Equal(0.5, schedule.Evaluate(5), 1e-15);
    }

    [Theory]
    [InlineData(1.0, 0, 0.0, 0, "decaySteps")]
    [InlineData(1.0, 10, 1.5, 0, "alpha")]
    [InlineData(1.0, 10, -0.1, 0, "alpha")]
    [InlineData(-1.0, 10, 0.0, 0, "initialLearningRate")]
    [InlineData(1.0, 10, 0.0, -1, "warmupSteps")]
    public void Constructor_BadArgument_ThrowsNamingIt(double initial, long decaySteps, double alpha, long warmupSteps, string parameter)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new CosineDecay(initial, decaySteps, alpha, warmupSteps: warmupSteps));
        Assert.Equal(parameter, e.ParamName);
        Assert.Contains($"Received: {parameter}=", e.Message);
    }

    [Fact]
    public void GetConfig_HasKerasKeys()
    {
        var config = new CosineDecay(0.1, 1000, alpha: 0.01, warmupTarget: 0.5, warmupSteps: 100).GetConfig();
        Assert.Equal(0.1, config["initial_learning_rate"]);
        Assert.Equal(1000L, config["decay_steps"]);
        Assert.Equal(0.01, config["alpha"]);
        Assert.Equal(0.5, config["warmup_target"]);
        Assert.Equal(100L, config["warmup_steps"]);
        Assert.Equal("CosineDecay", config["name"]);
        Assert.Null(new CosineDecay(0.1, 1000).GetConfig()["warmup_target"]);
    }
}
