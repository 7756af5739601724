using SeqSharp.Optimizers;

namespace SeqSharp.Tests.Optimizers;

/// <summary>
/// Nadam, Adamax, Adadelta, Lion and Ftrl against Keras 3's update rules (keras/src/optimizers/*.py),
/// written out in plain doubles and run side by side with SeqSharp's on <see cref="TinyProblem"/>.
/// </summary>
public class NewOptimizersTests
{
    private sealed class HandNadam(double beta1, double beta2, double epsilon) : HandOptimizer
    {
        private double _product = 1.0;
        private long _productStep = -1;

        protected override void Update(int index, double[] w, double[] g, double lr, long iterations)
        {
            double t = iterations + 1;
            double u = beta1 * (1 - 0.5 * Math.Pow(0.96, t));
            double uNext = beta1 * (1 - 0.5 * Math.Pow(0.96, t + 1));
            if (_productStep != iterations)
            {
                _product *= u;
                _productStep = iterations;
            }
            var m = State("m", index, w.Length);
            var v = State("v", index, w.Length);
            for (int j = 0; j < w.Length; j++)
            {
                m[j] += (g[j] - m[j]) * (1 - beta1);
                v[j] += (g[j] * g[j] - v[j]) * (1 - beta2);
                double mHat = uNext * m[j] / (1 - _product * uNext) + (1 - u) * g[j] / (1 - _product);
                double vHat = v[j] / (1 - Math.Pow(beta2, t));
                w[j] -= lr * mHat / (Math.Sqrt(vHat) + epsilon);
            }
        }
    }

    private sealed class HandAdamax(double beta1, double beta2, double epsilon) : HandOptimizer
    {
        protected override void Update(int index, double[] w, double[] g, double lr, long iterations)
        {
            var m = State("m", index, w.Length);
            var u = State("u", index, w.Length);
            for (int j = 0; j < w.Length; j++)
            {
                m[j] += (g[j] - m[j]) * (1 - beta1);
                u[j] = Math.Max(beta2 * u[j], Math.Abs(g[j]));
                w[j] -= lr * m[j] / ((1 - Math.Pow(beta1, iterations + 1)) * (u[j] + epsilon));
            }
        }
    }

    private sealed class HandAdadelta(double rho, double epsilon) : HandOptimizer
    {
        protected override void Update(int index, double[] w, double[] g, double lr, long iterations)
        {
            var a = State("grad", index, w.Length);
            var d = State("delta", index, w.Length);
            for (int j = 0; j < w.Length; j++)
            {
                a[j] = rho * a[j] + (1 - rho) * g[j] * g[j];
                double delta = -Math.Sqrt(d[j] + epsilon) * g[j] / Math.Sqrt(a[j] + epsilon);
                d[j] = rho * d[j] + (1 - rho) * delta * delta;
                w[j] += lr * delta;
            }
        }
    }

    private sealed class HandLion(double beta1, double beta2) : HandOptimizer
    {
        protected override void Update(int index, double[] w, double[] g, double lr, long iterations)
        {
            var m = State("m", index, w.Length);
            for (int j = 0; j < w.Length; j++)
            {
                w[j] -= lr * Math.Sign(m[j] * beta1 + g[j] * (1 - beta1));
                m[j] = m[j] * beta2 + g[j] * (1 - beta2);
            }
        }
    }

    private sealed class HandFtrl(double power, double initial, double l1, double l2, double shrinkage, double beta) : HandOptimizer
    {
        protected override void Update(int index, double[] w, double[] g, double lr, long iterations)
        {
            var n = State("accumulator", index, w.Length, initial);
            var z = State("linear", index, w.Length);
            double l2Total = l2 + beta / (2 * lr);
            for (int j = 0; j < w.Length; j++)
            {
                double gradient = g[j] + 2 * shrinkage * w[j];
                double newN = n[j] + g[j] * g[j];
                z[j] += gradient - (Math.Pow(newN, -power) - Math.Pow(n[j], -power)) / lr * w[j];
                double quadratic = Math.Pow(newN, -power) / lr + 2 * l2Total;
                w[j] = (Math.Clamp(z[j], -l1, l1) - z[j]) / quadratic;
                n[j] = newN;
            }
        }
    }

    [Fact]
    public void Nadam_DefaultsAndCustom_MatchKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(new Nadam(), new HandNadam(0.9, 0.999, 1e-7), steps: 4, tolerance: 1e-12);
        OptimizerHarness.AssertMatchesHand(new Nadam(learningRate: 0.05, beta1: 0.7, beta2: 0.9, epsilon: 0.01, weightDecay: 0.1),
            new HandNadam(0.7, 0.9, 0.01) { LearningRate = _ => 0.05, WeightDecay = 0.1 }, steps: 4, withUnused: true);
    }

    [Fact]
    public void Adamax_DefaultsAndCustom_MatchKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(new Adamax(), new HandAdamax(0.9, 0.999, 1e-7), steps: 4, tolerance: 1e-12);
        OptimizerHarness.AssertMatchesHand(new Adamax(learningRate: 0.05, beta1: 0.5, beta2: 0.8, epsilon: 0.01, clipvalue: 0.04),
            new HandAdamax(0.5, 0.8, 0.01) { LearningRate = _ => 0.05, Clipvalue = 0.04 }, steps: 4);
    }

    [Fact]
    public void Adadelta_MatchesKerasFormulas()
    {
        // Keras's default rate (0.001) moves the weights by ~1e-6: take the paper's rate 1.0 as well.
        OptimizerHarness.AssertMatchesHand(new Adadelta(learningRate: 1.0), new HandAdadelta(0.95, 1e-7) { LearningRate = _ => 1.0 }, steps: 4, tolerance: 1e-12);
        OptimizerHarness.AssertMatchesHand(new Adadelta(learningRate: 5.0, rho: 0.5, epsilon: 1e-3, clipnorm: 0.05),
            new HandAdadelta(0.5, 1e-3) { LearningRate = _ => 5.0, Clipnorm = 0.05 }, steps: 4);
    }

    [Fact]
    public void Lion_MatchesKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(new Lion(learningRate: 0.01), new HandLion(0.9, 0.99) { LearningRate = _ => 0.01 }, steps: 4, tolerance: 1e-12);
        OptimizerHarness.AssertMatchesHand(new Lion(learningRate: 0.02, beta1: 0.5, beta2: 0.7, weightDecay: 0.3),
            new HandLion(0.5, 0.7) { LearningRate = _ => 0.02, WeightDecay = 0.3 }, steps: 4, withUnused: true);
    }

    [Fact]
    public void Ftrl_DefaultsAndRegularized_MatchKerasFormulas()
    {
        OptimizerHarness.AssertMatchesHand(new Ftrl(learningRate: 0.1), new HandFtrl(-0.5, 0.1, 0, 0, 0, 0) { LearningRate = _ => 0.1 }, steps: 4, tolerance: 1e-12);
        OptimizerHarness.AssertMatchesHand(
            new Ftrl(learningRate: 0.2, learningRatePower: -0.7, initialAccumulatorValue: 0.3, l1RegularizationStrength: 0.01,
                l2RegularizationStrength: 0.02, l2ShrinkageRegularizationStrength: 0.05, beta: 0.1),
            new HandFtrl(-0.7, 0.3, 0.01, 0.02, 0.05, 0.1) { LearningRate = _ => 0.2 }, steps: 4);
    }

    [Theory]
    [InlineData("nadam", typeof(Nadam))]
    [InlineData("Nadam", typeof(Nadam))]
    [InlineData("adamax", typeof(Adamax))]
    [InlineData("adadelta", typeof(Adadelta))]
    [InlineData("lion", typeof(Lion))]
    [InlineData("ftrl", typeof(Ftrl))]
    public void Get_KerasName_ReturnsKerasDefaults(string name, Type type)
    {
        var optimizer = Optimizer.Get(name);
        Assert.IsType(type, optimizer);
        Assert.Equal(name.ToLowerInvariant(), optimizer.Name);
        Assert.Equal(0.001, optimizer.LearningRate);
    }

    [Fact]
    public void Defaults_AreKeras3Defaults()
    {
        var nadam = new Nadam();
        Assert.Equal((0.9, 0.999, 1e-7), (nadam.Beta1, nadam.Beta2, nadam.Epsilon));
        var adamax = new Adamax();
        Assert.Equal((0.9, 0.999, 1e-7), (adamax.Beta1, adamax.Beta2, adamax.Epsilon));
        var adadelta = new Adadelta();
        Assert.Equal((0.95, 1e-7), (adadelta.Rho, adadelta.Epsilon));
        var lion = new Lion();
        Assert.Equal((0.9, 0.99), (lion.Beta1, lion.Beta2));
        var ftrl = new Ftrl();
        Assert.Equal((-0.5, 0.1, 0.0, 0.0, 0.0, 0.0), (ftrl.LearningRatePower, ftrl.InitialAccumulatorValue, ftrl.L1RegularizationStrength,
            ftrl.L2RegularizationStrength, ftrl.L2ShrinkageRegularizationStrength, ftrl.Beta));
    }

    [Fact]
    public void Constructors_InvalidArguments_ThrowWithTheValue()
    {
        Assert.Contains("SignSGD", Assert.Throws<ArgumentOutOfRangeException>(() => new Lion(beta1: 0)).Message);
        Assert.Contains("learningRatePower=0.5", Assert.Throws<ArgumentOutOfRangeException>(() => new Ftrl(learningRatePower: 0.5)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Ftrl(initialAccumulatorValue: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Nadam(beta1: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adadelta(rho: 1.5));
    }

    [Fact]
    public void Nadam_Variables_EndWithTheMomentumProduct()
    {
        var parameters = TinyProblem.CreateParameters();
        var nadam = new Nadam();
        for (int i = 0; i < 2; i++)
        {
            TinyProblem.Backward(parameters);
            nadam.Step(parameters);
        }
        double u1 = 0.9 * (1 - 0.5 * 0.96), u2 = 0.9 * (1 - 0.5 * 0.96 * 0.96);
        var state = nadam.Variables;
        Assert.Equal(2 + 2 * parameters.Length + 1, state.Count);
        Assert.Equal(u1 * u2, state[^1].to_type(ScalarType.Float64).item<double>(), 12);

        // Restored into a new optimizer, the product continues.
        var copy = new Nadam();
        copy.Build(parameters);
        copy.SetVariables(state);
        Assert.Equal(u1 * u2, copy.Variables[^1].to_type(ScalarType.Float64).item<double>(), 12);
    }
}
