using SeqSharp.Interpretability;
using SeqSharp.Tests.TestSupport;
using static SeqSharp.Tests.Interpretability.ExplainModels;

namespace SeqSharp.Tests.Interpretability;

public class KernelShapTests
{
    private const long Steps = 5, Features = 2;

    [Fact]
    public void KernelShap_TenPlayers_EqualsEnumeratedShapleyValues()
    {
        manual_seed(51);
        var model = Recurrent(Steps, Features);
        var x = randn(2, Steps, Features, dtype: F64) * 1.5;
        var background = randn(4, Steps, Features, dtype: F64);

        var shap = Attributions.KernelShap(model, x, background, samples: 2048, seed: 1);     // 10 players: all 1022 coalitions

        Assert.Equal(x.shape, shap.shape);
        Assert.Equal(F64, shap.dtype);
        for (int i = 0; i < 2; i++)
        {
            var exact = tensor(ExactShapley.Values(model, x[i], background), [Steps, Features], F64);
            double error = TensorAssert.Close(exact, shap[i], atol: 1e-10, what: $"sample {i}");
            Assert.True(exact.abs().max().item<double>() > 0.05, "the values are not trivially small");
        }
    }

    [Fact]
    public void KernelShap_WindowGroups_EqualsEnumeratedShapleyValuesOfTheGroups()
    {
        manual_seed(52);
        var model = Recurrent(6, 3);
        var x = randn(3, 6, 3, dtype: F64);
        var background = randn(5, 6, 3, dtype: F64);
        var groups = Attributions.TimeWindowGroups(6, 3, window: 2);          // 3 windows × 3 features = 9 players
        Assert.Equal(new long[] { 9, 6, 3 }, groups.shape);

        var shap = Attributions.KernelShap(model, x, background, groups, seed: 1);

        Assert.Equal(new long[] { 3, 9 }, shap.shape);
        for (int i = 0; i < 3; i++)
            TensorAssert.Close(tensor(ExactShapley.Values(model, x[i], background, groups), F64), shap[i], atol: 1e-10, what: $"sample {i}");
    }

    [Fact]
    public void KernelShap_LinearModel_IsWeightTimesDifferenceFromBackgroundMean_AlsoWhenSampled()
    {
        var kernel = Enumerable.Range(0, 16).Select(k => 0.3 * Math.Sin(k + 1) + 0.05 * k).ToArray();
        var model = Linear(kernel, 8, 2);
        manual_seed(53);
        var x = randn(3, 8, 2, dtype: F64);
        var background = randn(7, 8, 2, dtype: F64) + 0.5;
        var expected = tensor(kernel, [8, 2], F64) * (x - background.mean([0]));

        // 16 players: 65534 coalitions; 200 drawn. An additive game is fitted exactly by any full-rank set.
        TensorAssert.Close(expected, Attributions.KernelShap(model, x, background, samples: 200, seed: 3), atol: 1e-9, what: "sampled");
        var byStep = Attributions.TimeWindowGroups(8, 2, window: 1, perFeature: false);      // 8 players: exact
        TensorAssert.Close(expected.sum([2]), Attributions.KernelShap(model, x, background, byStep), atol: 1e-10, what: "per step");
    }

    [Fact]
    public void KernelShap_Float32ModelManyPlayers_SumsToOutputMinusBaseValue()
    {
        manual_seed(54);
        var model = Recurrent(20, 3, ScalarType.Float32);                      // 60 players, sampled
        var x = randn(4, 20, 3);
        var background = randn(8, 20, 3);

        var shap = Attributions.KernelShap(model, x, background, samples: 300, seed: 2);
        double baseValue = Attributions.BaseValue(model, background);

        Assert.Equal(ScalarType.Float32, shap.dtype);
        var expected = Output(model, x) - baseValue;
        var gap = (shap.to_type(F64).sum([1, 2]) - expected).abs().max().item<double>();
        Assert.True(gap < 1e-4, $"efficiency gap {gap:E2}");
        Assert.Equal(Output(model, background).mean().item<double>(), baseValue, 6);
    }

    [Fact]
    public void KernelShap_MoreSamples_ConvergeToTheShapleyValues()
    {
        manual_seed(55);
        var model = Recurrent(Steps, Features);
        var x = randn(1, Steps, Features, dtype: F64) * 1.5;
        var background = randn(3, Steps, Features, dtype: F64);
        var exact = tensor(ExactShapley.Values(model, x[0], background), [1, Steps, Features], F64);

        // Below 1022 coalitions they are drawn: the error, averaged over seeds, falls as samples grow.
        double Error(int samples) => Enumerable.Range(1, 4)
            .Average(seed => (Attributions.KernelShap(model, x, background, samples: samples, seed: seed) - exact).square().sum().sqrt().item<double>());
        double few = Error(24), some = Error(120), many = Error(900);
        double scale = exact.square().sum().sqrt().item<double>();
        Assert.True(some < few && many < some, $"errors {few:E2}, {some:E2}, {many:E2}");
        Assert.True(many < few / 3, $"errors {few:E2} (24 samples) and {many:E2} (900 samples)");
        Assert.True(many < 0.15 * scale, $"error {many:E2} with 900 samples, values of norm {scale:E2}");
    }

    [Fact]
    public void KernelShap_SameSeed_SameValues()
    {
        manual_seed(56);
        var model = Recurrent(Steps, Features);
        var x = randn(2, Steps, Features, dtype: F64);
        var background = randn(3, Steps, Features, dtype: F64);
        var a = Attributions.KernelShap(model, x, background, samples: 100, seed: 9);
        var b = Attributions.KernelShap(model, x, background, samples: 100, seed: 9);
        var c = Attributions.KernelShap(model, x, background, samples: 100, seed: 10);
        Assert.True(a.eq(b).all().item<bool>(), $"max diff {(a - b).abs().max().item<double>():E3}");
        Assert.False(a.eq(c).all().item<bool>());
    }

    [Fact]
    public void KernelShap_OneReferenceAndOutputIndex_MatchExactValues()
    {
        manual_seed(57);
        var model = new Sequential([new SeqSharp.Layers.GRU(3, returnSequences: true, inputShape: [4, 2], dtype: F64), new SeqSharp.Layers.Dense(2, dtype: F64)]);
        var x = randn(1, 4, 2, dtype: F64);
        var reference = randn(4, 2, dtype: F64);                                 // one reference sample
        var shap = Attributions.KernelShap(model, x, reference, outputIndex: [2, 1]);
        var exact = ExactShapley.Values(model, x[0], reference.unsqueeze(0), select: y => y[.., 2, 1]);
        TensorAssert.Close(tensor(exact, [1, 4, 2], F64), shap, atol: 1e-10);
    }

    [Fact]
    public void KernelShap_BadBackground_ThrowsWithExpectedAndReceived()
    {
        var model = Recurrent(Steps, Features);
        var x = randn(2, Steps, Features, dtype: F64);
        var wrong = Assert.Throws<ArgumentException>(() => Attributions.KernelShap(model, x, randn(3, Steps, 3, dtype: F64)));
        Assert.Contains("(n, 5, 2)".Replace("(", "[").Replace(")", "]"), wrong.Message);
        Assert.Contains("Received shape [3, 5, 3]", wrong.Message);
        var empty = Assert.Throws<ArgumentException>(() => Attributions.KernelShap(model, x, zeros(0, Steps, Features, dtype: F64)));
        Assert.Contains("at least one background sample", empty.Message);
        Assert.Throws<ArgumentException>(() => Attributions.GradientShap(model, x, randn(Steps, 3, dtype: F64)));
        Assert.Throws<ArgumentException>(() => Attributions.GradientShap(model, x, zeros(0, Steps, Features, dtype: F64)));
    }

    [Fact]
    public void KernelShap_TooFewSamples_ThrowsWithTheMinimum()
    {
        var model = Recurrent(Steps, Features);
        var x = randn(1, Steps, Features, dtype: F64);
        var background = randn(2, Steps, Features, dtype: F64);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Attributions.KernelShap(model, x, background, samples: 10));
        Assert.Contains("10 players needs at least 11", e.Message);
        Assert.Contains("samples=10", e.Message);
        var three = Attributions.TimeWindowGroups(Steps, Features, window: 2, perFeature: false);   // 3 players: 6 coalitions, minimum 4
        var small = Assert.Throws<ArgumentOutOfRangeException>(() => Attributions.KernelShap(model, x, background, three, samples: 3));
        Assert.Contains("at least 4", small.Message);
        Assert.Equal(new long[] { 1, 3 }, Attributions.KernelShap(model, x, background, three, samples: 4).shape);
    }

    [Fact]
    public void KernelShap_OverlappingOrIncompleteGroups_Throw()
    {
        var model = Recurrent(Steps, Features);
        var x = randn(1, Steps, Features, dtype: F64);
        var background = randn(2, Steps, Features, dtype: F64);
        var overlapping = Attributions.TimeWindowGroups(Steps, Features, window: 2);
        overlapping[0, 2, 0] = true;                                         // step 2 of feature 0 also in window 1's group
        var overlap = Assert.Throws<ArgumentException>(() => Attributions.KernelShap(model, x, background, overlapping));
        Assert.Contains("must not overlap", overlap.Message);
        Assert.Contains("[2, 0]", overlap.Message);
        var incomplete = Attributions.TimeWindowGroups(Steps, Features, window: 2);
        incomplete[^1, .., 1] = false;                                       // the last window of feature 1 is nobody's
        incomplete = incomplete[..^1];
        var cover = Assert.Throws<ArgumentException>(() => Attributions.KernelShap(model, x, background, incomplete));
        Assert.Contains("must cover the input", cover.Message);
        var shape = Assert.Throws<ArgumentException>(() => Attributions.KernelShap(model, x, background, ones(3, Steps, 3, dtype: ScalarType.Bool)));
        Assert.Contains("Received shape [3, 5, 3]", shape.Message);
    }

    [Fact]
    public void ShapAndLime_LeaveModelUnchanged()
    {
        manual_seed(58);
        var model = Recurrent(Steps, Features);
        var x = randn(2, Steps, Features, dtype: F64);
        var background = randn(3, Steps, Features, dtype: F64);
        ExplainModels.AssertLeavesModelUnchanged(model, x, (m, input) =>
        {
            Attributions.KernelShap(m, input, background, samples: 64, seed: 1);
            Attributions.GradientShap(m, input, background, samples: 10, seed: 1);
            Attributions.Lime(m, input, segments: 2, samples: 50, seed: 1);
            Attributions.BaseValue(m, background);
        });
        // A refused call changes nothing either.
        ExplainModels.AssertLeavesModelUnchanged(model, x, (m, input) =>
            Assert.ThrowsAny<ArgumentException>(() => Attributions.KernelShap(m, input, background, samples: 2)));
    }
}
