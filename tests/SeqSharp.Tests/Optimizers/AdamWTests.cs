using SeqSharp.Optimizers;

namespace SeqSharp.Tests.Optimizers;

public class AdamWTests
{
    /// <summary>Keras 3's AdamW by hand: the base optimizer decays the weights, then the Adam update runs.</summary>
    private sealed class HandAdamW(double beta1, double beta2, double epsilon, bool amsgrad) : HandOptimizer
    {
        protected override void Update(int index, double[] w, double[] g, double lr, long iterations)
        {
            var m = State("m", index, w.Length);
            var v = State("v", index, w.Length);
            var vHat = State("vhat", index, w.Length);
            double t = iterations + 1;
            double alpha = lr * Math.Sqrt(1 - Math.Pow(beta2, t)) / (1 - Math.Pow(beta1, t));
            for (int j = 0; j < w.Length; j++)
            {
                m[j] += (g[j] - m[j]) * (1 - beta1);
                v[j] += (g[j] * g[j] - v[j]) * (1 - beta2);
                vHat[j] = Math.Max(vHat[j], v[j]);
                w[j] -= m[j] * alpha / (Math.Sqrt(amsgrad ? vHat[j] : v[j]) + epsilon);
            }
        }
    }

    [Fact]
    public void Step_Defaults_DecaysWithDefaultFactorAndMatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(new AdamW(), new HandAdamW(0.9, 0.999, 1e-7, false) { WeightDecay = 0.004 }, tolerance: 1e-12);
    }

    [Fact]
    public void Step_StrongDecay_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(
            new AdamW(learningRate: 0.2, weightDecay: 0.5, beta1: 0.8, beta2: 0.9, epsilon: 0.01),
            new HandAdamW(0.8, 0.9, 0.01, false) { LearningRate = _ => 0.2, WeightDecay = 0.5 });
    }

    [Fact]
    public void Step_Amsgrad_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(
            new AdamW(learningRate: 0.3, weightDecay: 0.1, beta1: 0.5, beta2: 0.5, epsilon: 0.01, amsgrad: true),
            new HandAdamW(0.5, 0.5, 0.01, true) { LearningRate = _ => 0.3, WeightDecay = 0.1 }, steps: 6);
    }

    [Theory]
    [MemberData(nameof(OptimizerHarness.ClipModes), MemberType = typeof(OptimizerHarness))]
    public void Step_Clipping_MatchesKerasFormulas(string mode)
    {
        var (clipnorm, clipvalue, globalClipnorm) = OptimizerHarness.Clip(mode);
        var hand = new HandAdamW(0.8, 0.9, 0.01, false)
        {
            LearningRate = _ => 0.1, WeightDecay = 0.3, Clipnorm = clipnorm, Clipvalue = clipvalue, GlobalClipnorm = globalClipnorm,
        };
        OptimizerHarness.AssertMatchesHand(
            new AdamW(learningRate: 0.1, weightDecay: 0.3, beta1: 0.8, beta2: 0.9, epsilon: 0.01,
                clipnorm: clipnorm, clipvalue: clipvalue, globalClipnorm: globalClipnorm),
            hand);
        Assert.True(hand.ClipsApplied > 0, $"{mode} never changed a gradient.");
    }

    [Fact]
    public void Step_VariableWithoutGradient_IsNotDecayed()
    {
        OptimizerHarness.AssertMatchesHand(
            new AdamW(learningRate: 0.1, weightDecay: 0.5), new HandAdamW(0.9, 0.999, 1e-7, false) { LearningRate = _ => 0.1, WeightDecay = 0.5 },
            withUnused: true);
    }

    [Fact]
    public void GetConfig_Defaults_HasKerasKeysAndValues()
    {
        var adamw = new AdamW();
        Assert.Equal("adamw", adamw.Name);
        Assert.Equal("AdamW", adamw.ClassName);
        var config = adamw.GetConfig();
        Assert.Equal(0.004, config["weight_decay"]);
        Assert.Equal(0.001, config["learning_rate"]);
        Assert.Equal(0.9, config["beta_1"]);
        Assert.Equal(0.999, config["beta_2"]);
        Assert.Equal(1e-7, config["epsilon"]);
        Assert.Equal(false, config["amsgrad"]);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void Constructor_BadWeightDecay_ThrowsWithValue(double weightDecay)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(weightDecay: weightDecay));
        Assert.Equal("weightDecay", e.ParamName);
        Assert.Contains("Received: weightDecay=", e.Message);
    }
}
