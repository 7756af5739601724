using SeqSharp.Interpretability;
using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Interpretability;

public class AttributionsTests
{
    private const long Batch = 3, Steps = 5, Features = 2;
    private const ScalarType F64 = ScalarType.Float64;

    /// <summary>A float64 recurrent model with randomised weights (biases included).</summary>
    private static Sequential Model(string recurrent = "lstm", bool returnSequences = false)
    {
        Layer first = recurrent == "gru"
            ? new GRU(4, returnSequences: returnSequences, inputShape: [Steps, Features], dtype: F64)
            : new LSTM(4, returnSequences: returnSequences, inputShape: [Steps, Features], dtype: F64);
        var model = new Sequential([first, new Dense(1, activation: "tanh", dtype: F64)]);
        using var _ = no_grad();
        foreach (var weight in model.Layers.SelectMany(l => l.Weights))
            weight.uniform_(-0.8, 0.8);
        return model;
    }

    /// <summary>Flatten → Dense(1, linear) with the given (steps·features) kernel and no bias: f(x) = Σ w ⊙ x.</summary>
    private static Sequential Linear(double[] kernel)
    {
        var model = new Sequential([new Flatten(inputShape: [Steps, Features], dtype: F64), new Dense(1, useBias: false, dtype: F64)]);
        model.SetWeights([tensor(kernel, [Steps * Features, 1], F64)]);
        return model;
    }

    private static Tensor Output(Sequential model, Tensor x, Func<Tensor, Tensor> select)
    {
        using var _ = no_grad();
        return select(model.Call(x));
    }

    /// <summary>Central differences per input element, all samples perturbed at once (samples are independent).</summary>
    private static Tensor FiniteDifferences(Sequential model, Tensor x, Func<Tensor, Tensor> select, double eps = 1e-5)
    {
        var gradient = zeros_like(x);
        for (long t = 0; t < x.shape[1]; t++)
        {
            for (long f = 0; f < x.shape[2]; f++)
            {
                var (plus, minus) = (x.clone(), x.clone());
                plus[.., t, f] += eps;
                minus[.., t, f] -= eps;
                gradient[.., t, f] = (Output(model, plus, select) - Output(model, minus, select)) / (2 * eps);
            }
        }
        return gradient;
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    public void Saliency_MatchesFiniteDifferences(string recurrent)
    {
        manual_seed(31);
        var model = Model(recurrent);
        var x = randn(Batch, Steps, Features, dtype: F64);
        var saliency = Attributions.Saliency(model, x);
        Assert.Equal(F64, saliency.dtype);
        TensorAssert.Close(FiniteDifferences(model, x, y => y[.., 0]), saliency, atol: 1e-6, what: "saliency");
    }

    [Fact]
    public void Saliency_OutputIndexAndTarget_SelectTheSameOutputAndMatchFiniteDifferences()
    {
        manual_seed(32);
        var model = Model(returnSequences: true);      // output (batch, 5, 1)
        var x = randn(Batch, Steps, Features, dtype: F64);
        var byIndex = Attributions.Saliency(model, x, outputIndex: [2, 0]);
        var byTarget = Attributions.Saliency(model, x, target: y => y[.., 2, 0]);
        TensorAssert.Close(byTarget, byIndex, atol: 0, what: "index vs target");
        TensorAssert.Close(FiniteDifferences(model, x, y => y[.., 2, 0]), byIndex, atol: 1e-6, what: "step 2");
        // A Dense applied per step: output step 2 cannot depend on later input steps.
        Assert.Equal(0.0, byIndex[.., 3..].abs().max().item<double>());
        var last = Attributions.Saliency(model, x, outputIndex: [-1, 0]);
        TensorAssert.Close(FiniteDifferences(model, x, y => y[.., Steps - 1, 0]), last, atol: 1e-6, what: "last step");
    }

    [Fact]
    public void GradientTimesInput_IsSaliencyTimesInput()
    {
        manual_seed(33);
        var model = Model();
        var x = randn(Batch, Steps, Features, dtype: F64);
        TensorAssert.Close(Attributions.Saliency(model, x) * x, Attributions.GradientTimesInput(model, x), atol: 1e-15);
    }

    [Fact]
    public void IntegratedGradients_Completeness_ErrorShrinksWithSteps()
    {
        manual_seed(34);
        var model = Model();
        var x = randn(Batch, Steps, Features, dtype: F64) * 2;
        var baseline = tensor(new[] { 0.3, -0.2 }, F64);          // per feature, broadcast
        var expected = Output(model, x, y => y[.., 0]) - Output(model, baseline.expand(x.shape), y => y[.., 0]);

        double Error(int steps) =>
            (Attributions.IntegratedGradients(model, x, baseline, steps).sum([1, 2]) - expected).abs().max().item<double>();
        double coarse = Error(10), fine = Error(200);
        Assert.True(fine < 1e-4, $"completeness error with 200 steps: {fine:E2}");
        Assert.True(fine < coarse / 20, $"error did not shrink: 10 steps {coarse:E2}, 200 steps {fine:E2}");
    }

    [Fact]
    public void IntegratedGradients_LinearModel_IsWeightTimesDifferenceForAnySteps()
    {
        var kernel = Enumerable.Range(0, (int)(Steps * Features)).Select(k => 0.1 * k - 0.4).ToArray();
        var model = Linear(kernel);
        manual_seed(35);
        var x = randn(Batch, Steps, Features, dtype: F64);
        var baseline = randn(Steps, Features, dtype: F64);
        var expected = (x - baseline) * tensor(kernel, [Steps, Features], F64);
        TensorAssert.Close(expected, Attributions.IntegratedGradients(model, x, baseline, steps: 1), atol: 1e-12);
        TensorAssert.Close(expected, Attributions.IntegratedGradients(model, x, baseline, steps: 7), atol: 1e-12);
    }

    [Fact]
    public void Occlusion_LinearModel_MatchesHandComputedDrops()
    {
        // Step 2 has zero weight: occluding it changes nothing.
        var kernel = new double[] { 1, 2, -1, 0.5, 0, 0, 3, -2, 0.25, 1 };
        var model = Linear(kernel);
        var x = tensor(new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, -1, 0.5, 2, -3, 1, 1, 0, 2, 4, -2 }, [2, Steps, Features], F64);
        var baseline = tensor(new[] { 1.0, -1.0 }, F64);

        // drop[b, t] = Σ_f w[t, f] (x[b, t, f] - baseline[f])
        var drops = new double[2, Steps];
        for (int b = 0; b < 2; b++)
            for (int t = 0; t < Steps; t++)
                for (int f = 0; f < Features; f++)
                    drops[b, t] += kernel[t * Features + f] * (x[b, t, f].item<double>() - (f == 0 ? 1.0 : -1.0));

        var single = Attributions.Occlusion(model, x, baseline: baseline);
        Assert.Equal(x.shape, single.shape);
        for (int b = 0; b < 2; b++)
        {
            for (int t = 0; t < Steps; t++)
            {
                for (int f = 0; f < Features; f++)
                    Assert.Equal(drops[b, t], single[b, t, f].item<double>(), 12);
            }
            Assert.Equal(0.0, single[b, 2].abs().max().item<double>());
        }

        // Window 2: windows start at 0..3; step t averages the windows [t-1, t] and [t, t+1] that exist.
        var pairs = Attributions.Occlusion(model, x, window: 2, baseline: baseline);
        for (int b = 0; b < 2; b++)
        {
            for (int t = 0; t < Steps; t++)
            {
                var windows = new[] { t - 1, t }.Where(s => s >= 0 && s + 1 < Steps).Select(s => drops[b, s] + drops[b, s + 1]).ToList();
                Assert.Equal(windows.Average(), pairs[b, t, 0].item<double>(), 12);
            }
        }
    }

    [Fact]
    public void Occlusion_DefaultBaseline_IsZeros()
    {
        manual_seed(36);
        var model = Model();
        var x = randn(Batch, Steps, Features, dtype: F64);
        TensorAssert.Close(Attributions.Occlusion(model, x, baseline: zeros(Features, dtype: F64)), Attributions.Occlusion(model, x), atol: 0);
        var occluded = x.clone();
        occluded[.., 1] = 0.0;
        var expected = Output(model, x, y => y[.., 0]) - Output(model, occluded, y => y[.., 0]);
        TensorAssert.Close(expected, Attributions.Occlusion(model, x)[.., 1, 0], atol: 1e-12, what: "drop of step 1");
    }

    [Fact]
    public void PermutationImportance_IgnoredFeatureIsZero_UsedFeatureIsPositive()
    {
        manual_seed(37);
        var model = Model();
        using (no_grad())
            model.Layers[0].Weights[0][1].zero_();        // kernel row of feature 1: the model ignores it
        var x = randn(64, Steps, Features, dtype: F64);
        var y = model.Predict(x, verbose: 0).to_type(F64) + 0.01 * randn(64, 1, dtype: F64);

        var importance = Attributions.PermutationImportance(model, x, y, repeats: 3, seed: 5);
        Assert.Equal([Features], importance.shape);
        Assert.Equal(0.0, importance[1].item<double>(), 12);
        Assert.True(importance[0].item<double>() > 1e-3, $"importance of the used feature: {importance[0].item<double>():E2}");
        TensorAssert.Close(importance, Attributions.PermutationImportance(model, x, y, repeats: 3, seed: 5), atol: 0, what: "same seed");
        var mae = Attributions.PermutationImportance(model, x, y, loss: "mae", repeats: 3, seed: 5);
        Assert.Equal(0.0, mae[1].item<double>(), 12);
        Assert.True(mae[0].item<double>() > 1e-3);
    }

    [Fact]
    public void PermutationImportance_LinearModel_MatchesHandComputedLossIncrease()
    {
        // One permutation of two samples is always the swap: with mse and y = f(x), the loss after swapping
        // feature f is mean over samples of (Σ_t w[t, f] (x[other, t, f] - x[b, t, f]))².
        var kernel = new double[] { 1, 0, -1, 0, 0.5, 0, 2, 0, 1, 0 };
        var model = Linear(kernel);
        manual_seed(38);
        var x = randn(2, Steps, Features, dtype: F64);
        var y = Output(model, x, v => v);
        double delta = 0;
        for (int t = 0; t < Steps; t++)
            delta += kernel[t * Features] * (x[1, t, 0].item<double>() - x[0, t, 0].item<double>());
        var importance = Attributions.PermutationImportance(model, x, y, repeats: 50, seed: 1);
        // Half of the random permutations of 2 samples swap them.
        Assert.Equal(0.0, importance[1].item<double>(), 12);
        double perSwap = delta * delta;
        double share = importance[0].item<double>() / perSwap;
        Assert.True(share > 0.2 && share < 0.8, $"share of swaps {share}");
        Assert.Equal(0.0, Math.Round(share * 50) - share * 50, 8);      // a whole number of swaps out of 50
    }

    [Fact]
    public void Attributions_LeaveModelUnchanged()
    {
        manual_seed(39);
        var model = Model();
        var before = model.GetWeights();
        var x = randn(Batch, Steps, Features, dtype: F64);
        model.train();
        Attributions.Saliency(model, x);
        Attributions.IntegratedGradients(model, x, steps: 3);
        Attributions.Occlusion(model, x);
        Attributions.PermutationImportance(model, x, randn(Batch, 1, dtype: F64), repeats: 1, seed: 1);
        Assert.True(model.training);
        Assert.All(model.Layers, l => Assert.True(l.training));
        model.eval();
        Attributions.Saliency(model, x);
        Assert.False(model.training);
        TinyModels.AssertSameWeights(before, model.GetWeights());
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
        Assert.False(x.requires_grad);
    }

    [Fact]
    public void Attributions_Float32Model_GivesFloat32Attributions()
    {
        manual_seed(40);
        var model = new Sequential([new LSTM(3, inputShape: [Steps, Features]), new Dense(1)]);
        var x = randn(Batch, Steps, Features, dtype: F64);
        var saliency = Attributions.Saliency(model, x);
        Assert.Equal(ScalarType.Float32, saliency.dtype);
        Assert.Equal(x.shape, saliency.shape);
    }

    [Fact]
    public void Attributions_SeveralOutputsPerSampleWithoutSelection_Throws()
    {
        var model = Model(returnSequences: true);
        var x = randn(Batch, Steps, Features, dtype: F64);
        var e = Assert.Throws<ArgumentException>(() => Attributions.Saliency(model, x));
        Assert.Contains("5 values per sample", e.Message);
        Assert.Contains("outputIndex", e.Message);
        Assert.Throws<ArgumentException>(() => Attributions.Saliency(model, x, target: y => y[.., 0, 0], outputIndex: [0, 0]));
        var length = Assert.Throws<ArgumentException>(() => Attributions.Saliency(model, x, outputIndex: [0]));
        Assert.Contains("2 entries", length.Message);
        var range = Assert.Throws<ArgumentException>(() => Attributions.Occlusion(model, x, outputIndex: [5, 0]));
        Assert.Contains("[-5, 4]", range.Message);
        var shape = Assert.Throws<ArgumentException>(() => Attributions.Saliency(model, x, target: y => y[.., 0]));
        Assert.Contains("one value per sample, shape [3]", shape.Message);
    }

    [Fact]
    public void Attributions_BadArguments_Throw()
    {
        var model = Model();
        var x = randn(Batch, Steps, Features, dtype: F64);
        var features = Assert.Throws<ArgumentException>(() => Attributions.Saliency(model, randn(Batch, Steps, 3, dtype: F64)));
        Assert.Contains("value 2", features.Message);
        Assert.Contains("[3, 5, 3]", features.Message);
        var baseline = Assert.Throws<ArgumentException>(() => Attributions.IntegratedGradients(model, x, baseline: zeros(3, dtype: F64)));
        Assert.Contains("Received shape [3]", baseline.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Attributions.IntegratedGradients(model, x, steps: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Attributions.Occlusion(model, x, window: 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => Attributions.PermutationImportance(model, x, randn(Batch, 1), repeats: 0));
        var samples = Assert.Throws<ArgumentException>(() => Attributions.PermutationImportance(model, x, randn(Batch + 1, 1)));
        Assert.Contains("same number of samples", samples.Message);
        Assert.Throws<ArgumentException>(() => Attributions.Saliency(model, ones(new long[] { Batch, Steps, Features }, ScalarType.Int64)));
    }

    [Fact]
    public void Attributions_StatefulModel_ThrowsNotSupported()
    {
        var model = new Sequential([new LSTM(3, stateful: true, inputShape: [Steps, Features], batchSize: (int)Batch), new Dense(1)]);
        var e = Assert.Throws<NotSupportedException>(() => Attributions.Saliency(model, randn(Batch, Steps, Features)));
        Assert.Contains("stateful", e.Message);
    }
}
