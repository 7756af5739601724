using SeqSharp.Interpretability;
using SeqSharp.Tests.TestSupport;
using static SeqSharp.Tests.Interpretability.ExplainModels;

namespace SeqSharp.Tests.Interpretability;

public class GradientShapTests
{
    private const long Steps = 5, Features = 2;

    [Fact]
    public void GradientShap_LinearModel_EqualsClosedFormAndKernelShap()
    {
        var kernel = Enumerable.Range(0, 10).Select(k => 0.25 * k - 1.1).ToArray();
        var model = Linear(kernel, Steps, Features);
        manual_seed(61);
        var x = randn(3, Steps, Features, dtype: F64);
        var background = randn(8, Steps, Features, dtype: F64) - 0.4;
        var expected = tensor(kernel, [Steps, Features], F64) * (x - background.mean([0]));

        // 200 draws = 25 rounds over the 8 references: each is used equally often.
        var gradientShap = Attributions.GradientShap(model, x, background, samples: 200, seed: 1);
        TensorAssert.Close(expected, gradientShap, atol: 1e-12, what: "closed form");
        TensorAssert.Close(Attributions.KernelShap(model, x, background, seed: 1), gradientShap, atol: 1e-10, what: "Kernel SHAP");
    }

    [Fact]
    public void GradientShap_OneDraw_IsDifferenceTimesGradientAtAPathPoint()
    {
        // One reference and one draw: (x - b) ⊙ ∇f(b + α (x - b)) for some α in [0, 1]; check the gradient
        // against central differences at the α that makes it consistent, found along the path.
        manual_seed(62);
        var model = Recurrent(Steps, Features);
        var x = randn(1, Steps, Features, dtype: F64);
        var b = randn(Steps, Features, dtype: F64);
        var one = Attributions.GradientShap(model, x, b, samples: 1, seed: 4);
        var difference = x - b;
        double bestError = double.MaxValue;
        for (int k = 0; k <= 250; k++)
        {
            var point = b + difference * (k / 250.0);
            var gradient = Attributions.Saliency(model, point);
            bestError = Math.Min(bestError, (difference * gradient - one).abs().max().item<double>());
        }
        Assert.True(bestError < 5e-3, $"no point on the path gives this attribution (closest {bestError:E2})");
    }

    [Fact]
    public void GradientShap_Completeness_HoldsOnAverageAndImprovesWithSamples()
    {
        manual_seed(63);
        var model = Recurrent(Steps, Features);
        var x = randn(4, Steps, Features, dtype: F64) * 1.5;
        var background = randn(6, Steps, Features, dtype: F64);
        var expected = Output(model, x) - Output(model, background).mean();

        double Gap(int samples) => Enumerable.Range(1, 3)
            .Average(seed => (Attributions.GradientShap(model, x, background, samples: samples, seed: seed).sum([1, 2]) - expected).abs().mean().item<double>());
        double few = Gap(12), many = Gap(3000);
        double scale = expected.abs().mean().item<double>();
        Assert.True(many < few / 4, $"completeness gap {few:E2} with 12 draws, {many:E2} with 3000");
        Assert.True(many < 0.03 * scale + 1e-3, $"gap {many:E2} with 3000 draws, |f(x) - E f(b)| ≈ {scale:E2}");
    }

    [Fact]
    public void GradientShap_SameSeed_SameValues()
    {
        manual_seed(64);
        var model = Recurrent(Steps, Features);
        var x = randn(2, Steps, Features, dtype: F64);
        var background = randn(3, Steps, Features, dtype: F64);
        var a = Attributions.GradientShap(model, x, background, samples: 20, seed: 5);
        Assert.True(a.eq(Attributions.GradientShap(model, x, background, samples: 20, seed: 5)).all().item<bool>());
        Assert.False(a.eq(Attributions.GradientShap(model, x, background, samples: 20, seed: 6)).all().item<bool>());
        Assert.Throws<ArgumentOutOfRangeException>(() => Attributions.GradientShap(model, x, background, samples: 0));
    }
}
