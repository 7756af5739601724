using SeqSharp.Optimizers;
using SeqSharp.Optimizers.Schedules;

namespace SeqSharp.Tests.Optimizers;

public class SGDTests
{
    /// <summary>Keras 3's SGD by hand.</summary>
    private sealed class HandSGD(double momentum, bool nesterov) : HandOptimizer
    {
        protected override void Update(int index, double[] w, double[] g, double lr, long iterations)
        {
            var m = State("momentum", index, w.Length);
            for (int j = 0; j < w.Length; j++)
            {
                if (momentum == 0)
                {
                    w[j] -= lr * g[j];
                    continue;
                }
                m[j] = momentum * m[j] - lr * g[j];
                w[j] += nesterov ? momentum * m[j] - lr * g[j] : m[j];
            }
        }
    }

    [Fact]
    public void Step_Defaults_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(new SGD(), new HandSGD(0.0, false) { LearningRate = _ => 0.01 }, tolerance: 1e-12);
    }

    [Fact]
    public void Step_Momentum_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(new SGD(learningRate: 0.5, momentum: 0.8), new HandSGD(0.8, false) { LearningRate = _ => 0.5 });
    }

    [Fact]
    public void Step_Nesterov_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(
            new SGD(learningRate: 0.5, momentum: 0.8, nesterov: true), new HandSGD(0.8, true) { LearningRate = _ => 0.5 });
    }

    [Fact]
    public void Step_WeightDecay_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(
            new SGD(learningRate: 0.5, momentum: 0.8, weightDecay: 0.3),
            new HandSGD(0.8, false) { LearningRate = _ => 0.5, WeightDecay = 0.3 });
    }

    [Theory]
    [MemberData(nameof(OptimizerHarness.ClipModes), MemberType = typeof(OptimizerHarness))]
    public void Step_Clipping_MatchesKerasFormulas(string mode)
    {
        var (clipnorm, clipvalue, globalClipnorm) = OptimizerHarness.Clip(mode);
        var hand = new HandSGD(0.8, true) { LearningRate = _ => 0.5, Clipnorm = clipnorm, Clipvalue = clipvalue, GlobalClipnorm = globalClipnorm };
        OptimizerHarness.AssertMatchesHand(
            new SGD(learningRate: 0.5, momentum: 0.8, nesterov: true, clipnorm: clipnorm, clipvalue: clipvalue, globalClipnorm: globalClipnorm),
            hand);
        Assert.True(hand.ClipsApplied > 0, $"{mode} never changed a gradient.");
    }

    [Fact]
    public void Step_PiecewiseSchedule_UsesRateOfEachStep()
    {
        // Steps 0 and 1 use 0.5, steps 2.. use 0.1: the third update must use the smaller rate.
        var schedule = new PiecewiseConstantDecay([1], [0.5, 0.1]);
        var hand = new HandSGD(0.8, false) { LearningRate = step => step <= 1 ? 0.5 : 0.1 };
        OptimizerHarness.AssertMatchesHand(new SGD(learningRate: schedule, momentum: 0.8), hand, steps: 4);
    }

    [Fact]
    public void Step_ExponentialSchedule_UsesRateOfEachStep()
    {
        var hand = new HandSGD(0.0, false) { LearningRate = step => 1.0 * Math.Pow(0.5, step / 2.0) };
        OptimizerHarness.AssertMatchesHand(new SGD(learningRate: new ExponentialDecay(1.0, 2, 0.5)), hand, steps: 4);
    }

    [Fact]
    public void Step_VariableWithoutGradient_IsLeftUnchanged()
    {
        OptimizerHarness.AssertMatchesHand(
            new SGD(learningRate: 0.5, momentum: 0.8, weightDecay: 0.3),
            new HandSGD(0.8, false) { LearningRate = _ => 0.5, WeightDecay = 0.3 }, withUnused: true);
    }

    [Fact]
    public void Variables_WithoutMomentum_AreOnlyCounters()
    {
        var parameters = TinyProblem.CreateParameters();
        var sgd = new SGD();
        TinyProblem.Backward(parameters);
        sgd.Step(parameters);
        Assert.Equal(2, sgd.Variables.Count);
    }

    [Fact]
    public void GetConfig_Defaults_HasKerasKeysAndValues()
    {
        var sgd = new SGD();
        Assert.Equal("sgd", sgd.Name);
        Assert.Equal("SGD", sgd.ClassName);
        var config = sgd.GetConfig();
        Assert.Equal(0.01, config["learning_rate"]);
        Assert.Equal(0.0, config["momentum"]);
        Assert.Equal(false, config["nesterov"]);
    }

    [Theory]
    [InlineData(-0.5)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Constructor_MomentumOutsideZeroOne_ThrowsWithValue(double momentum)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SGD(momentum: momentum));
        Assert.Equal("momentum", e.ParamName);
        Assert.Contains("Received: momentum=", e.Message);
    }
}
