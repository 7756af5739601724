using SeqSharp.Optimizers;

namespace SeqSharp.Tests.Optimizers;

public class RMSpropTests
{
    /// <summary>Keras 3's RMSprop by hand; epsilon sits under the square root.</summary>
    private sealed class HandRMSprop(double rho, double momentum, double epsilon, bool centered) : HandOptimizer
    {
        protected override void Update(int index, double[] w, double[] g, double lr, long iterations)
        {
            var velocity = State("velocity", index, w.Length);
            var average = State("average", index, w.Length);
            var mom = State("momentum", index, w.Length);
            for (int j = 0; j < w.Length; j++)
            {
                velocity[j] = rho * velocity[j] + (1 - rho) * g[j] * g[j];
                double denominator;
                if (centered)
                {
                    average[j] = rho * average[j] + (1 - rho) * g[j];
                    denominator = velocity[j] - average[j] * average[j] + epsilon;
                }
                else
                {
                    denominator = velocity[j] + epsilon;
                }
                double increment = lr * g[j] / Math.Sqrt(denominator);
                if (momentum > 0)
                {
                    mom[j] = momentum * mom[j] + increment;
                    w[j] -= mom[j];
                }
                else
                {
                    w[j] -= increment;
                }
            }
        }
    }

    [Fact]
    public void Step_Defaults_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(new RMSprop(), new HandRMSprop(0.9, 0.0, 1e-7, false), tolerance: 1e-12);
    }

    [Fact]
    public void Step_LargeEpsilon_MatchesKerasFormulasWithEpsilonUnderRoot()
    {
        OptimizerHarness.AssertMatchesHand(
            new RMSprop(learningRate: 0.05, rho: 0.7, epsilon: 0.01),
            new HandRMSprop(0.7, 0.0, 0.01, false) { LearningRate = _ => 0.05 });
    }

    [Fact]
    public void Step_Momentum_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(
            new RMSprop(learningRate: 0.05, rho: 0.7, momentum: 0.6, epsilon: 0.01),
            new HandRMSprop(0.7, 0.6, 0.01, false) { LearningRate = _ => 0.05 });
    }

    [Fact]
    public void Step_Centered_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(
            new RMSprop(learningRate: 0.05, rho: 0.7, epsilon: 0.01, centered: true),
            new HandRMSprop(0.7, 0.0, 0.01, true) { LearningRate = _ => 0.05 });
    }

    [Fact]
    public void Step_CenteredWithMomentum_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(
            new RMSprop(learningRate: 0.05, rho: 0.7, momentum: 0.6, epsilon: 0.01, centered: true),
            new HandRMSprop(0.7, 0.6, 0.01, true) { LearningRate = _ => 0.05 });
    }

    [Fact]
    public void Step_WeightDecay_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(
            new RMSprop(learningRate: 0.05, rho: 0.7, epsilon: 0.01, weightDecay: 0.4),
            new HandRMSprop(0.7, 0.0, 0.01, false) { LearningRate = _ => 0.05, WeightDecay = 0.4 });
    }

    [Theory]
    [MemberData(nameof(OptimizerHarness.ClipModes), MemberType = typeof(OptimizerHarness))]
    public void Step_Clipping_MatchesKerasFormulas(string mode)
    {
        var (clipnorm, clipvalue, globalClipnorm) = OptimizerHarness.Clip(mode);
        var hand = new HandRMSprop(0.7, 0.5, 0.01, true)
        {
            LearningRate = _ => 0.05, Clipnorm = clipnorm, Clipvalue = clipvalue, GlobalClipnorm = globalClipnorm,
        };
        OptimizerHarness.AssertMatchesHand(
            new RMSprop(learningRate: 0.05, rho: 0.7, momentum: 0.5, epsilon: 0.01, centered: true,
                clipnorm: clipnorm, clipvalue: clipvalue, globalClipnorm: globalClipnorm),
            hand);
        Assert.True(hand.ClipsApplied > 0, $"{mode} never changed a gradient.");
    }

    [Fact]
    public void Step_VariableWithoutGradient_IsLeftUnchanged()
    {
        OptimizerHarness.AssertMatchesHand(
            new RMSprop(learningRate: 0.05, momentum: 0.5, centered: true, weightDecay: 0.1),
            new HandRMSprop(0.9, 0.5, 1e-7, true) { LearningRate = _ => 0.05, WeightDecay = 0.1 }, withUnused: true);
    }

    [Theory]
    [InlineData(false, false, 1)]
    [InlineData(false, true, 2)]
    [InlineData(true, false, 2)]
    [InlineData(true, true, 3)]
    public void Variables_AfterStep_HaveOneSlotPerOptionPerVariable(bool momentum, bool centered, int slotsPerVariable)
    {
        var parameters = TinyProblem.CreateParameters();
        var optimizer = new RMSprop(momentum: momentum ? 0.5 : 0.0, centered: centered);
        TinyProblem.Backward(parameters);
        optimizer.Step(parameters);
        Assert.Equal(2 + slotsPerVariable * parameters.Length, optimizer.Variables.Count);
    }

    [Fact]
    public void GetConfig_Defaults_HasKerasKeysAndValues()
    {
        var optimizer = new RMSprop();
        Assert.Equal("rmsprop", optimizer.Name);
        Assert.Equal("RMSprop", optimizer.ClassName);
        var config = optimizer.GetConfig();
        Assert.Equal(0.001, config["learning_rate"]);
        Assert.Equal(0.9, config["rho"]);
        Assert.Equal(0.0, config["momentum"]);
        Assert.Equal(1e-7, config["epsilon"]);
        Assert.Equal(false, config["centered"]);
    }

    [Theory]
    [InlineData(1.5, 0.0, 1e-7, "rho")]
    [InlineData(0.9, -0.1, 1e-7, "momentum")]
    [InlineData(0.9, 1.1, 1e-7, "momentum")]
    [InlineData(0.9, 0.0, double.NaN, "epsilon")]
    public void Constructor_BadArgument_ThrowsNamingIt(double rho, double momentum, double epsilon, string parameter)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RMSprop(rho: rho, momentum: momentum, epsilon: epsilon));
        Assert.Equal(parameter, e.ParamName);
        Assert.Contains($"Received: {parameter}=", e.Message);
    }
}
