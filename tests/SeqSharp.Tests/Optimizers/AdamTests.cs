using SeqSharp.Optimizers;

namespace SeqSharp.Tests.Optimizers;

public class AdamTests
{
    /// <summary>Keras 3's Adam, by hand.</summary>
    private sealed class HandAdam(double beta1, double beta2, double epsilon, bool amsgrad) : HandOptimizer
    {
        public int MaximaUsed { get; private set; }

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
                double denominatorV = v[j];
                if (amsgrad)
                {
                    if (vHat[j] > v[j])
                        MaximaUsed++;
                    vHat[j] = Math.Max(vHat[j], v[j]);
                    denominatorV = vHat[j];
                }
                w[j] -= m[j] * alpha / (Math.Sqrt(denominatorV) + epsilon);
            }
        }
    }

    [Fact]
    public void Step_Defaults_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(new Adam(), new HandAdam(0.9, 0.999, 1e-7, false), tolerance: 1e-12);
    }

    [Fact]
    public void Step_CustomHyperparameters_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(
            new Adam(learningRate: 0.1, beta1: 0.7, beta2: 0.8, epsilon: 0.05),
            new HandAdam(0.7, 0.8, 0.05, false) { LearningRate = _ => 0.1 });
    }

    [Fact]
    public void Step_Amsgrad_MatchesKerasFormulas()
    {
        var hand = new HandAdam(0.5, 0.5, 0.01, true) { LearningRate = _ => 0.3 };
        OptimizerHarness.AssertMatchesHand(new Adam(learningRate: 0.3, beta1: 0.5, beta2: 0.5, epsilon: 0.01, amsgrad: true), hand, steps: 6);
        Assert.True(hand.MaximaUsed > 0, "The velocity never decreased, so AMSGrad's maximum was not exercised.");
    }

    [Fact]
    public void Step_WeightDecay_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(
            new Adam(learningRate: 0.1, weightDecay: 0.2, epsilon: 0.01),
            new HandAdam(0.9, 0.999, 0.01, false) { LearningRate = _ => 0.1, WeightDecay = 0.2 });
    }

    [Theory]
    [MemberData(nameof(OptimizerHarness.ClipModes), MemberType = typeof(OptimizerHarness))]
    public void Step_Clipping_MatchesKerasFormulas(string mode)
    {
        var (clipnorm, clipvalue, globalClipnorm) = OptimizerHarness.Clip(mode);
        var hand = new HandAdam(0.8, 0.9, 0.01, false)
        {
            LearningRate = _ => 0.1, Clipnorm = clipnorm, Clipvalue = clipvalue, GlobalClipnorm = globalClipnorm,
        };
        OptimizerHarness.AssertMatchesHand(
            new Adam(learningRate: 0.1, beta1: 0.8, beta2: 0.9, epsilon: 0.01, clipnorm: clipnorm, clipvalue: clipvalue, globalClipnorm: globalClipnorm),
            hand);
        Assert.True(hand.ClipsApplied > 0, $"{mode} never changed a gradient.");
    }

    [Fact]
    public void Step_VariableWithoutGradient_IsLeftUnchanged()
    {
        var hand = new HandAdam(0.9, 0.999, 0.01, false) { LearningRate = _ => 0.1, WeightDecay = 0.1 };
        OptimizerHarness.AssertMatchesHand(new Adam(learningRate: 0.1, epsilon: 0.01, weightDecay: 0.1), hand, withUnused: true);
    }

    [Fact]
    public void Step_Float32Variables_UpdatesInFloat32()
    {
        OptimizerHarness.AssertMatchesHand(
            new Adam(learningRate: 0.1, epsilon: 0.01), new HandAdam(0.9, 0.999, 0.01, false) { LearningRate = _ => 0.1 },
            tolerance: 1e-5, dtype: ScalarType.Float32);
    }

    [Fact]
    public void Variables_AfterStep_AreMomentumAndVelocityPerVariableThenMaxima()
    {
        var parameters = TinyProblem.CreateParameters();
        var adam = new Adam(amsgrad: true);
        TinyProblem.Backward(parameters);
        adam.Step(parameters);
        var state = adam.Variables;
        Assert.Equal(2 + 3 * parameters.Length, state.Count);
        Assert.Equal(1L, state[0].item<long>());
        Assert.Equal(0.001, state[1].item<double>());
        long[][] expectedShapes = [[3, 2], [3, 2], [2], [2], [3, 2], [2]];
        for (int i = 0; i < expectedShapes.Length; i++)
            Assert.Equal(expectedShapes[i], state[2 + i].shape);
        // After one step m = 0.1 g and v = 0.001 g², so they are told apart by their ratio to g.
        var g = TinyProblem.Gradients(TinyProblem.InitialValues(false));
        Assert.Equal(0.1 * g[0]![0], state[2].data<double>()[0], 1e-15);
        Assert.Equal(0.001 * g[0]![0] * g[0]![0], state[3].data<double>()[0], 1e-15);
        Assert.Equal(0.1 * g[1]![0], state[4].data<double>()[0], 1e-15);
    }

    [Fact]
    public void GetConfig_Defaults_HasKerasKeysAndValues()
    {
        var config = new Adam().GetConfig();
        Assert.Equal("adam", config["name"]);
        Assert.Equal(0.001, config["learning_rate"]);
        Assert.Equal(0.9, config["beta_1"]);
        Assert.Equal(0.999, config["beta_2"]);
        Assert.Equal(1e-7, config["epsilon"]);
        Assert.Equal(false, config["amsgrad"]);
        Assert.Null(config["weight_decay"]);
        Assert.Null(config["clipnorm"]);
        Assert.Null(config["clipvalue"]);
        Assert.Null(config["global_clipnorm"]);
    }

    [Fact]
    public void Name_Default_IsAdamAndClassNameAdam()
    {
        var adam = new Adam();
        Assert.Equal("adam", adam.Name);
        Assert.Equal("Adam", adam.ClassName);
        Assert.Equal("custom", new Adam(name: "custom").Name);
    }

    [Theory]
    [InlineData(1.0, 0.999, 1e-7, "beta1")]
    [InlineData(-0.1, 0.999, 1e-7, "beta1")]
    [InlineData(0.9, 1.0, 1e-7, "beta2")]
    [InlineData(0.9, double.NaN, 1e-7, "beta2")]
    [InlineData(0.9, 0.999, -1e-7, "epsilon")]
    public void Constructor_BadArgument_ThrowsNamingIt(double beta1, double beta2, double epsilon, string parameter)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: beta1, beta2: beta2, epsilon: epsilon));
        Assert.Equal(parameter, e.ParamName);
        Assert.Contains($"Received: {parameter}=", e.Message);
    }
}
