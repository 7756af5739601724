using SeqSharp.Interpretability;
using SeqSharp.Tests.TestSupport;
using static SeqSharp.Tests.Interpretability.ExplainModels;

namespace SeqSharp.Tests.Interpretability;

public class LimeTests
{
    private const long Steps = 10, Features = 3;

    private static double Correlation(Tensor a, Tensor b)
    {
        var (u, v) = (a.reshape(-1).to_type(F64), b.reshape(-1).to_type(F64));
        u = u - u.mean();
        v = v - v.mean();
        return ((u * v).sum() / (u.square().sum().sqrt() * v.square().sum().sqrt())).item<double>();
    }

    /// <summary>What switching window k of feature f to the background removes from a linear model: Σ_{t in k} w[t, f] (x[t, f] - b[f]).</summary>
    private static Tensor WindowContributions(double[] kernel, Tensor x, Tensor b, int segments)
    {
        var cell = tensor(kernel, [Steps, Features], F64) * (x - b);                     // (batch, steps, features)
        long windows = (Steps + segments - 1) / segments;
        return stack(Enumerable.Range(0, (int)windows).Select(k => cell[.., (k * segments)..(int)Math.Min(Steps, (k + 1) * segments)].sum([1])), 1);
    }

    [Fact]
    public void Lime_LinearModel_RecoversTheWindowContributions()
    {
        var kernel = Enumerable.Range(0, 30).Select(k => Math.Cos(0.7 * k) * (1 + 0.05 * k)).ToArray();
        var model = Linear(kernel, Steps, Features, bias: -0.2);
        manual_seed(71);
        var x = randn(2, Steps, Features, dtype: F64);
        var b = tensor(new[] { 0.5, -0.5, 0.1 }, F64);

        var lime = Attributions.Lime(model, x, segments: 5, samples: 2000, kernelWidth: 0.25, seed: 1, background: b);   // 2 windows × 3 features

        Assert.Equal(new long[] { 2, 2, 3 }, lime.Coefficients.shape);
        var expected = WindowContributions(kernel, x, b, 5);
        for (int i = 0; i < 2; i++)
            Assert.True(Correlation(expected[i], lime.Coefficients[i]) > 0.99, $"sample {i}: correlation {Correlation(expected[i], lime.Coefficients[i]):F4}");
        // The output is exactly linear in the switches: ridge shrinks a little, the fit is near perfect.
        TensorAssert.Close(expected, lime.Coefficients, atol: 0.05 * expected.abs().max().item<double>(), what: "coefficients");
        Assert.True(lime.Score > 0.999, $"weighted R² {lime.Score:F5}");
        var atBackground = Output(model, b.expand(2, Steps, Features).contiguous());
        TensorAssert.Close(atBackground, lime.Intercepts, atol: 0.1, what: "intercept = f(background)");
    }

    [Fact]
    public void Lime_SegmentsOfOne_RecoverTheLinearWeightsTimesDifference()
    {
        var kernel = Enumerable.Range(0, 30).Select(k => (k % 7 - 3) * 0.4).ToArray();
        var model = Linear(kernel, Steps, Features);
        manual_seed(72);
        var x = randn(1, Steps, Features, dtype: F64);
        var lime = Attributions.Lime(model, x, segments: 1, samples: 1500, seed: 2);        // 30 features, zero background
        var expected = tensor(kernel, [1, Steps, Features], F64) * x;
        Assert.Equal(expected.shape, lime.Coefficients.shape);
        Assert.True(Correlation(expected, lime.Coefficients) > 0.99, $"correlation {Correlation(expected, lime.Coefficients):F4}");
    }

    [Fact]
    public void Lime_WholeSteps_GiveOneCoefficientPerWindow()
    {
        var kernel = Enumerable.Range(0, 30).Select(k => 0.1 * k - 1).ToArray();
        var model = Linear(kernel, Steps, Features);
        manual_seed(73);
        var x = randn(1, Steps, Features, dtype: F64);
        var lime = Attributions.Lime(model, x, segments: 3, samples: 400, seed: 3, perFeature: false);
        Assert.Equal(new long[] { 1, 4, 1 }, lime.Coefficients.shape);                   // windows 0-2, 3-5, 6-8, 9
        var expected = WindowContributions(kernel, x, zeros(Features, dtype: F64), 3).sum([2]);
        Assert.True(Correlation(expected, lime.Coefficients) > 0.99);
    }

    [Fact]
    public void Lime_FixedSeed_GivesIdenticalResults()
    {
        manual_seed(74);
        var model = Recurrent(Steps, Features);
        var x = randn(2, Steps, Features, dtype: F64);
        var a = Attributions.Lime(model, x, segments: 2, samples: 300, seed: 11);
        var b = Attributions.Lime(model, x, segments: 2, samples: 300, seed: 11);
        var c = Attributions.Lime(model, x, segments: 2, samples: 300, seed: 12);
        Assert.True(a.Coefficients.eq(b.Coefficients).all().item<bool>());
        Assert.Equal(a.Score, b.Score);
        Assert.False(a.Coefficients.eq(c.Coefficients).all().item<bool>());
        Assert.InRange(a.Score, 0.0, 1.0);
        Assert.Equal(a.Scores.mean().item<double>(), a.Score, 12);
    }

    [Fact]
    public void Lime_BadArguments_ThrowWithExpectedAndReceived()
    {
        var model = Recurrent(Steps, Features);
        var x = randn(1, Steps, Features, dtype: F64);
        var samples = Assert.Throws<ArgumentOutOfRangeException>(() => Attributions.Lime(model, x, segments: 2, samples: 10));
        Assert.Contains("15 interpretable features", samples.Message);
        Assert.Contains("at least 16 samples", samples.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Attributions.Lime(model, x, segments: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Attributions.Lime(model, x, segments: 11));
        Assert.Throws<ArgumentOutOfRangeException>(() => Attributions.Lime(model, x, kernelWidth: 0));
        var background = Assert.Throws<ArgumentException>(() => Attributions.Lime(model, x, background: zeros(4, dtype: F64)));
        Assert.Contains("Received shape [4]", background.Message);
        Assert.Throws<ArgumentException>(() => Attributions.Lime(model, x, background: zeros(0, Steps, Features, dtype: F64)));
    }
}
