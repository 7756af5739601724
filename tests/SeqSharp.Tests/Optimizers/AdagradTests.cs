using SeqSharp.Optimizers;

namespace SeqSharp.Tests.Optimizers;

public class AdagradTests
{
    /// <summary>Keras 3's Adagrad by hand.</summary>
    private sealed class HandAdagrad(double initialAccumulatorValue, double epsilon) : HandOptimizer
    {
        protected override void Update(int index, double[] w, double[] g, double lr, long iterations)
        {
            var accumulator = State("accumulator", index, w.Length, initialAccumulatorValue);
            for (int j = 0; j < w.Length; j++)
            {
                accumulator[j] += g[j] * g[j];
                w[j] -= lr * g[j] / Math.Sqrt(accumulator[j] + epsilon);
            }
        }
    }

    [Fact]
    public void Step_Defaults_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(new Adagrad(), new HandAdagrad(0.1, 1e-7), tolerance: 1e-12);
    }

    [Fact]
    public void Step_CustomHyperparameters_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(
            new Adagrad(learningRate: 0.2, initialAccumulatorValue: 0.01, epsilon: 0.02),
            new HandAdagrad(0.01, 0.02) { LearningRate = _ => 0.2 });
    }

    [Fact]
    public void Step_WeightDecay_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(
            new Adagrad(learningRate: 0.2, weightDecay: 0.3),
            new HandAdagrad(0.1, 1e-7) { LearningRate = _ => 0.2, WeightDecay = 0.3 });
    }

    [Theory]
    [MemberData(nameof(OptimizerHarness.ClipModes), MemberType = typeof(OptimizerHarness))]
    public void Step_Clipping_MatchesKerasFormulas(string mode)
    {
        var (clipnorm, clipvalue, globalClipnorm) = OptimizerHarness.Clip(mode);
        var hand = new HandAdagrad(0.01, 0.02) { LearningRate = _ => 0.2, Clipnorm = clipnorm, Clipvalue = clipvalue, GlobalClipnorm = globalClipnorm };
        OptimizerHarness.AssertMatchesHand(
            new Adagrad(learningRate: 0.2, initialAccumulatorValue: 0.01, epsilon: 0.02,
                clipnorm: clipnorm, clipvalue: clipvalue, globalClipnorm: globalClipnorm),
            hand);
        Assert.True(hand.ClipsApplied > 0, $"{mode} never changed a gradient.");
    }

    [Fact]
    public void Step_VariableWithoutGradient_IsLeftUnchanged()
    {
        OptimizerHarness.AssertMatchesHand(
            new Adagrad(learningRate: 0.2, weightDecay: 0.3), new HandAdagrad(0.1, 1e-7) { LearningRate = _ => 0.2, WeightDecay = 0.3 },
            withUnused: true);
    }

    [Fact]
    public void Variables_BeforeFirstStep_AccumulatorsStartAtInitialValue()
    {
        var parameters = TinyProblem.CreateParameters();
        var adagrad = new Adagrad(initialAccumulatorValue: 0.25);
        adagrad.Build(parameters);
        var state = adagrad.Variables;
        Assert.Equal(4, state.Count);
        Assert.All(state.Skip(2), s => Assert.All(s.data<double>().ToArray(), x => Assert.Equal(0.25, x)));
    }

    [Fact]
    public void GetConfig_Defaults_HasKerasKeysAndValues()
    {
        var adagrad = new Adagrad();
        Assert.Equal("adagrad", adagrad.Name);
        Assert.Equal("Adagrad", adagrad.ClassName);
        var config = adagrad.GetConfig();
        Assert.Equal(0.001, config["learning_rate"]);
        Assert.Equal(0.1, config["initial_accumulator_value"]);
        Assert.Equal(1e-7, config["epsilon"]);
    }

    [Theory]
    [InlineData(-0.1, 1e-7, "initialAccumulatorValue")]
    [InlineData(0.1, -1e-7, "epsilon")]
    public void Constructor_NegativeArgument_ThrowsNamingIt(double initial, double epsilon, string parameter)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Adagrad(initialAccumulatorValue: initial, epsilon: epsilon));
        Assert.Equal(parameter, e.ParamName);
    }
}
