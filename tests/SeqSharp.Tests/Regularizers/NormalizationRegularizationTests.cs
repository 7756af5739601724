using SeqSharp.Constraints;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Regularizers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Regularizers;

/// <summary>
/// <c>beta_regularizer</c>, <c>gamma_regularizer</c>, <c>beta_constraint</c> and <c>gamma_constraint</c> of
/// <see cref="LayerNormalization"/> and <see cref="BatchNormalization"/> (Keras 3's arguments): the penalty
/// added to the loss and the projection after each step, against values worked out by hand in doubles.
/// </summary>
public class NormalizationRegularizationTests
{
    private static readonly double[] Gamma = [0.5, -1.5, 2.0];
    private static readonly double[] Beta = [0.1, -0.3, 0.2];
    private static readonly double[] Xs = [1.0, -0.5, 2.0, 0.3, 0.8, -1.2];   // (2, 3)
    private static readonly double[] Ys = [0.4, -0.1, 1.0, 0.5, 0.0, -0.6];   // (2, 3)

    private static Tensor T(double[] values, params long[] shape) => tensor(values, shape, ScalarType.Float64);

    private static double Close(Tensor t) => t.item<double>();

    [Fact]
    public void LayerNormalization_Evaluate_LossIsMsePlusGammaAndBetaPenalties()
    {
        var model = new Sequential([new LayerNormalization(inputShape: [3], dtype: ScalarType.Float64,
            gammaRegularizer: new L2(0.1), betaRegularizer: new L1(0.2))]);
        model.Layers[0].SetWeights([T(Gamma, 3), T(Beta, 3)]);
        model.Compile(optimizer: "sgd", loss: "mse", metrics: ["mse"]);

        // y = (x - mean) / sqrt(var + 1e-3) · gamma + beta per sample, biased variance.
        double mse = 0;
        for (int n = 0; n < 2; n++)
        {
            double mean = (Xs[3 * n] + Xs[3 * n + 1] + Xs[3 * n + 2]) / 3;
            double variance = Enumerable.Range(0, 3).Sum(i => (Xs[3 * n + i] - mean) * (Xs[3 * n + i] - mean)) / 3;
            for (int i = 0; i < 3; i++)
            {
                double pred = (Xs[3 * n + i] - mean) / Math.Sqrt(variance + 1e-3) * Gamma[i] + Beta[i];
                mse += (pred - Ys[3 * n + i]) * (pred - Ys[3 * n + i]) / 6;
            }
        }
        double penalty = 0.1 * Gamma.Sum(g => g * g) + 0.2 * Beta.Sum(Math.Abs);   // 0.1 · 6.5 + 0.2 · 0.6
        Assert.Equal(0.77, penalty, 12);
        Assert.Equal(penalty, Close(model.RegularizationLoss()), 12);
        var scores = model.Evaluate(T(Xs, 2, 3), T(Ys, 2, 3), batchSize: 2, verbose: 0);
        Assert.Equal(mse + penalty, scores["loss"], 10);
        Assert.Equal(mse, scores["mse"], 10);
    }

    [Fact]
    public void BatchNormalization_Evaluate_InferenceLossPlusPenalties()
    {
        var model = new Sequential([new BatchNormalization(inputShape: [3], dtype: ScalarType.Float64,
            gammaRegularizer: "l2", betaRegularizer: new L1L2(l1: 0.05, l2: 0.5))]);
        double[] movingMean = [0.2, -0.1, 0.5], movingVariance = [1.5, 0.25, 4.0];
        model.Layers[0].SetWeights([T(Gamma, 3), T(Beta, 3), T(movingMean, 3), T(movingVariance, 3)]);
        model.Compile(optimizer: "sgd", loss: "mse");

        // Inference: y = (x - moving_mean) / sqrt(moving_variance + 1e-3) · gamma + beta.
        double mse = 0;
        for (int n = 0; n < 2; n++)
        {
            for (int i = 0; i < 3; i++)
            {
                double pred = (Xs[3 * n + i] - movingMean[i]) / Math.Sqrt(movingVariance[i] + 1e-3) * Gamma[i] + Beta[i];
                mse += (pred - Ys[3 * n + i]) * (pred - Ys[3 * n + i]) / 6;
            }
        }
        // "l2" is L2(0.01); the moving statistics are not trainable and carry no penalty.
        double penalty = 0.01 * Gamma.Sum(g => g * g) + 0.05 * Beta.Sum(Math.Abs) + 0.5 * Beta.Sum(b => b * b);
        var scores = model.Evaluate(T(Xs, 2, 3), T(Ys, 2, 3), batchSize: 2, verbose: 0);
        Assert.Equal(mse + penalty, scores["loss"], 10);
    }

    [Fact]
    public void BatchNormalization_OneSgdStep_PenaltyGradientIsAddedToGammaAndBeta()
    {
        // Same start, with and without the penalties: the mse gradients are equal, so one SGD step of
        // rate lr differs by exactly lr · (2 · 0.1 · gamma) on gamma and lr · 0.2 · sign(beta) on beta.
        Sequential Make(Regularizer? gamma, Regularizer? beta)
        {
            var model = new Sequential([new BatchNormalization(inputShape: [3], dtype: ScalarType.Float64,
                gammaRegularizer: gamma, betaRegularizer: beta)]);
            model.Layers[0].SetWeights([T(Gamma, 3), T(Beta, 3), zeros(3, dtype: ScalarType.Float64), ones(3, dtype: ScalarType.Float64)]);
            model.Compile(optimizer: new SGD(learningRate: 0.5), loss: "mse");
            model.Fit(T(Xs, 2, 3), T(Ys, 2, 3), batchSize: 2, epochs: 1, shuffle: false, verbose: 0);
            return model;
        }
        var plain = Make(null, null).GetWeights();
        var penalised = Make(new L2(0.1), new L1(0.2)).GetWeights();
        var gamma = penalised[0].data<double>().ToArray();
        var beta = penalised[1].data<double>().ToArray();
        var gammaPlain = plain[0].data<double>().ToArray();
        var betaPlain = plain[1].data<double>().ToArray();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(gammaPlain[i] - 0.5 * 2 * 0.1 * Gamma[i], gamma[i], 12);
            Assert.Equal(betaPlain[i] - 0.5 * 0.2 * Math.Sign(Beta[i]), beta[i], 12);
        }
        // The moving statistics move the same way in both.
        TensorAssert.Close(plain[2], penalised[2], atol: 1e-15, what: "moving mean");
    }

    [Fact]
    public void Constraints_ProjectGammaAndBetaAfterTheStep()
    {
        // MaxNorm(1) on gamma (axis 0 of a vector: its whole norm) and NonNeg on beta, by Keras's formulas
        // applied by hand to the unconstrained model's step.
        Sequential Make(Constraint? gamma, Constraint? beta)
        {
            var model = new Sequential([new LayerNormalization(inputShape: [3], dtype: ScalarType.Float64,
                gammaConstraint: gamma, betaConstraint: beta)]);
            model.Layers[0].SetWeights([T(Gamma, 3), T(Beta, 3)]);
            model.Compile(optimizer: new SGD(learningRate: 0.1), loss: "mse");
            model.Fit(T(Xs, 2, 3), T(Ys, 2, 3), batchSize: 2, epochs: 1, shuffle: false, verbose: 0);
            return model;
        }
        var free = Make(null, null).GetWeights();
        var projected = Make(new MaxNorm(1.0), "non_neg").GetWeights();
        var gammaFree = free[0].data<double>().ToArray();
        double norm = Math.Sqrt(gammaFree.Sum(g => g * g));
        Assert.True(norm > 1, $"The test needs a step that leaves gamma's norm above 1; it is {norm}.");
        var expectedGamma = gammaFree.Select(g => g * 1.0 / (1e-7 + norm)).ToArray();
        Assert.Equal(expectedGamma, projected[0].data<double>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-12);
        var expectedBeta = free[1].data<double>().ToArray().Select(b => Math.Max(b, 0)).ToArray();
        Assert.Contains(free[1].data<double>().ToArray(), b => b < 0);
        Assert.Equal(expectedBeta, projected[1].data<double>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void FromConfig_KerasForms_ReadAndWrittenBack()
    {
        Dictionary<string, object?> Serialized(string module, string className, Dictionary<string, object?> config) =>
            new() { ["module"] = module, ["class_name"] = className, ["config"] = config, ["registered_name"] = null };
        foreach (var className in new[] { "BatchNormalization", "LayerNormalization" })
        {
            // As Keras 3 writes them in config.json (unset ones as null).
            var config = new Dictionary<string, object?>
            {
                ["axis"] = -1L,
                ["gamma_regularizer"] = Serialized("keras.regularizers", "L2", new() { ["l2"] = 0.001 }),
                ["beta_regularizer"] = null,
                ["gamma_constraint"] = null,
                ["beta_constraint"] = Serialized("keras.constraints", "NonNeg", []),
            };
            var layer = Layer.FromConfig(className, config);
            Assert.Equal(0.001, Assert.IsType<L2>(layer.WeightRegularizers["gamma"]).Factor);
            Assert.False(layer.WeightRegularizers.ContainsKey("beta"));
            Assert.IsType<NonNeg>(layer.WeightConstraints["beta"]);
            var again = Layer.FromConfig(className, layer.GetConfig());
            Assert.Equal(0.001, Assert.IsType<L2>(again.WeightRegularizers["gamma"]).Factor);
            Assert.IsType<NonNeg>(again.WeightConstraints["beta"]);
        }
    }

    [Fact]
    public void FromConfig_RegularizerOfTheMovingStatistics_Refused()
    {
        var config = new BatchNormalization().GetConfig();
        config["moving_mean_regularizer"] = new Dictionary<string, object?> { ["class_name"] = "L2", ["config"] = new Dictionary<string, object?> { ["l2"] = 0.01 } };
        var e = Assert.Throws<NotSupportedException>(() => Layer.FromConfig("BatchNormalization", config));
        Assert.Contains("moving_mean_regularizer", e.Message);
        Assert.Contains("gamma_regularizer", e.Message);
    }
}
