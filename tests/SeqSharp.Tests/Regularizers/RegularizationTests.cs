using SeqSharp.Constraints;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Regularizers;

namespace SeqSharp.Tests.Regularizers;

/// <summary>
/// Regularizers and constraints against Keras 3's formulas (keras/src/regularizers, keras/src/constraints)
/// and its training semantics (trainer.compute_loss adds model.losses; activity penalties are divided
/// by the batch size; constraints run after each optimizer step), with values computed by hand.
/// </summary>
public class RegularizationTests
{
    private static readonly double[] Kernel = [0.5, -1.0, 2.0, 0.25, -0.75, 1.5];   // (3, 2)
    private static readonly double[] Bias = [0.1, -0.2];

    private static Tensor T(double[] values, params long[] shape) => tensor(values, shape, ScalarType.Float64);

    private static Sequential DenseModel(Regularizer? kernel = null, Regularizer? bias = null, Regularizer? activity = null, Constraint? kernelConstraint = null)
    {
        var model = new Sequential();
        model.Add(new Dense(2, inputShape: [3], dtype: ScalarType.Float64, kernelRegularizer: kernel, biasRegularizer: bias,
            activityRegularizer: activity, kernelConstraint: kernelConstraint));
        model.Layers[^1].SetWeights([T(Kernel, 3, 2), T(Bias, 2)]);
        return model;
    }

    [Fact]
    public void Penalties_MatchKerasFormulas()
    {
        var x = T(Kernel, 3, 2);
        Assert.Equal(0.1 * Kernel.Sum(v => v * v), new L2(0.1).Compute(x).item<double>(), 12);
        Assert.Equal(0.2 * Kernel.Sum(Math.Abs), new L1(0.2).Compute(x).item<double>(), 12);
        Assert.Equal(0.2 * Kernel.Sum(Math.Abs) + 0.1 * Kernel.Sum(v => v * v), new L1L2(0.2, 0.1).Compute(x).item<double>(), 12);
        // Rows r0 = (0.5, -1), r1 = (2, 0.25), r2 = (-0.75, 1.5); factor · 0.5 · Σ_{i≠j} |cos(r_i, r_j)| / 3.
        double[][] rows = [[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]];
        double Cos(double[] a, double[] b) => (a[0] * b[0] + a[1] * b[1]) / Math.Sqrt((a[0] * a[0] + a[1] * a[1]) * (b[0] * b[0] + b[1] * b[1]));
        double sum = 2 * (Math.Abs(Cos(rows[0], rows[1])) + Math.Abs(Cos(rows[0], rows[2])) + Math.Abs(Cos(rows[1], rows[2])));
        Assert.Equal(0.05 * 0.5 * sum / 3, new OrthogonalRegularizer(0.05).Compute(x).item<double>(), 12);
    }

    [Theory]
    [InlineData("l1", typeof(L1))]
    [InlineData("l2", typeof(L2))]
    [InlineData("l1_l2", typeof(L1L2))]
    [InlineData("L2", typeof(L2))]
    [InlineData("orthogonal_regularizer", typeof(OrthogonalRegularizer))]
    public void Get_KerasNames_GiveDefaultFactors(string name, Type type)
    {
        Regularizer regularizer = name;
        Assert.IsType(type, regularizer);
        var config = regularizer.GetConfig();
        Assert.All(config.Where(p => p.Key != "mode"), p => Assert.Equal(0.01, (double)p.Value!));
        Assert.Contains("l1, l1_l2, l2", Assert.Throws<ArgumentException>(() => Regularizer.Get("l3")).Message);
    }

    [Fact]
    public void Fit_OneSgdStep_GradientIncludesThePenalty()
    {
        // Loss = mean((x·W + b - y)²) + 0.1 Σ W² + 0.2 Σ |b|; one SGD step of rate 0.5 from the known weights.
        var model = DenseModel(kernel: new L2(0.1), bias: new L1(0.2));
        model.Compile(optimizer: new SGD(learningRate: 0.5), loss: "mse");
        double[] xs = [1.0, -0.5, 2.0, 0.3, 0.8, -1.2];   // (2, 3)
        double[] ys = [0.4, -0.1, 1.0, 0.5];              // (2, 2)
        var history = model.Fit(T(xs, 2, 3), T(ys, 2, 2), batchSize: 2, epochs: 1, shuffle: false, verbose: 0);

        var gradW = new double[6];
        var gradB = new double[2];
        double mse = 0;
        for (int n = 0; n < 2; n++)
        {
            for (int u = 0; u < 2; u++)
            {
                double pred = Bias[u] + Enumerable.Range(0, 3).Sum(i => xs[n * 3 + i] * Kernel[i * 2 + u]);
                double error = pred - ys[n * 2 + u];
                mse += error * error / 4;
                for (int i = 0; i < 3; i++)
                    gradW[i * 2 + u] += 2 * error / 4 * xs[n * 3 + i];
                gradB[u] += 2 * error / 4;
            }
        }
        double penalty = 0.1 * Kernel.Sum(v => v * v) + 0.2 * Bias.Sum(Math.Abs);
        Assert.Equal(mse + penalty, history["loss"][0], 10);
        var weights = model.GetWeights();
        var expectedW = Kernel.Select((w, k) => w - 0.5 * (gradW[k] + 2 * 0.1 * w)).ToArray();
        var expectedB = Bias.Select((b, k) => b - 0.5 * (gradB[k] + 0.2 * Math.Sign(b))).ToArray();
        Assert.Equal(expectedW, weights[0].data<double>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(expectedB, weights[1].data<double>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void Evaluate_ReportsLossPlusWeightAndActivityPenalties()
    {
        // Activity: 0.3 Σ y² / batch, of the layer's output for the batch.
        var model = DenseModel(kernel: new L2(0.1), activity: new L2(0.3));
        model.Compile(optimizer: "sgd", loss: "mse", metrics: ["mse"]);
        double[] xs = [1.0, -0.5, 2.0, 0.3, 0.8, -1.2];
        double[] ys = [0.4, -0.1, 1.0, 0.5];
        double mse = 0, activity = 0;
        for (int n = 0; n < 2; n++)
        {
            for (int u = 0; u < 2; u++)
            {
                double pred = Bias[u] + Enumerable.Range(0, 3).Sum(i => xs[n * 3 + i] * Kernel[i * 2 + u]);
                mse += (pred - ys[n * 2 + u]) * (pred - ys[n * 2 + u]) / 4;
                activity += 0.3 * pred * pred / 2;
            }
        }
        var scores = model.Evaluate(T(xs, 2, 3), T(ys, 2, 2), batchSize: 2, verbose: 0);
        Assert.Equal(mse + 0.1 * Kernel.Sum(v => v * v) + activity, scores["loss"], 10);
        // Metrics see only y and the prediction, as in Keras.
        Assert.Equal(mse, scores["mse"], 10);
    }

    [Fact]
    public void FrozenLayer_AddsNoWeightPenalty()
    {
        var model = DenseModel(kernel: new L2(0.1));
        Assert.Equal(0.1 * Kernel.Sum(v => v * v), model.RegularizationLoss().item<double>(), 12);
        model.Layers[^1].Trainable = false;
        Assert.Equal(0.0, model.RegularizationLoss().item<double>());
    }

    [Fact]
    public void RecurrentRegularizer_PenalizesTheRecurrentKernel()
    {
        var model = new Sequential();
        model.Add(new LSTM(3, inputShape: [4, 2], recurrentRegularizer: new L2(0.05), dtype: ScalarType.Float64));
        model.Build([4, 2]);
        var recurrent = model.Layers[^1].GetWeights()[1];
        Assert.Equal(0.05 * recurrent.square().sum().item<double>(), model.RegularizationLoss().item<double>(), 12);
    }

    [Fact]
    public void Constraints_MatchKerasFormulas()
    {
        var w = T(Kernel, 3, 2);
        // Column norms (axis 0): sqrt(0.25 + 4 + 0.5625) = 2.1937..., sqrt(1 + 0.0625 + 2.25) = 1.8200...
        double n0 = Math.Sqrt(0.25 + 4 + 0.5625), n1 = Math.Sqrt(1 + 0.0625 + 2.25);
        double[] Scaled(Func<double, double> desired) => Kernel.Select((v, k) => v * desired(k % 2 == 0 ? n0 : n1) / (1e-7 + (k % 2 == 0 ? n0 : n1))).ToArray();
        Assert.Equal(Scaled(n => Math.Min(n, 2)), new MaxNorm(2).Apply(w).data<double>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(Scaled(n => 0.5 * Math.Clamp(n, 1.9, 2.1) + 0.5 * n), new MinMaxNorm(1.9, 2.1, 0.5).Apply(w).data<double>().ToArray(),
            (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(Scaled(_ => 1), new UnitNorm().Apply(w).data<double>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(Kernel.Select(v => Math.Max(v, 0)).ToArray(), new NonNeg().Apply(w).data<double>().ToArray());
        // Row norms with axis 1.
        double[] rowNorms = [Math.Sqrt(1.25), Math.Sqrt(4.0625), Math.Sqrt(2.8125)];
        Assert.Equal(Kernel.Select((v, k) => v / (1e-7 + rowNorms[k / 2])).ToArray(), new UnitNorm([1]).Apply(w).data<double>().ToArray(),
            (a, b) => Math.Abs(a - b) < 1e-12);
    }

    [Fact]
    public void Fit_ConstraintIsAppliedAfterEachStep()
    {
        var model = DenseModel(kernelConstraint: "non_neg");
        model.Compile(optimizer: new SGD(learningRate: 0.01), loss: "mse");
        model.Fit(T([1.0, -0.5, 2.0, 0.3, 0.8, -1.2], 2, 3), T([0.4, -0.1, 1.0, 0.5], 2, 2), epochs: 2, verbose: 0);
        var kernel = model.GetWeights()[0].data<double>().ToArray();
        Assert.All(kernel, v => Assert.True(v >= 0));
        Assert.Contains(kernel, v => v == 0);   // the negative starting weights were projected
    }

    [Fact]
    public void FromConfig_KerasSerializedForms_AreRead()
    {
        // As Keras 3 writes them in a .keras file's config.json.
        var config = new Dictionary<string, object?>
        {
            ["units"] = 2L,
            ["kernel_regularizer"] = new Dictionary<string, object?>
            {
                ["module"] = "keras.regularizers", ["class_name"] = "L2", ["config"] = new Dictionary<string, object?> { ["l2"] = 0.001 }, ["registered_name"] = null,
            },
            ["activity_regularizer"] = new Dictionary<string, object?>
            {
                ["module"] = "keras.regularizers", ["class_name"] = "L1L2", ["config"] = new Dictionary<string, object?> { ["l1"] = 0.0, ["l2"] = 0.5 }, ["registered_name"] = null,
            },
            ["kernel_constraint"] = new Dictionary<string, object?>
            {
                ["module"] = "keras.constraints", ["class_name"] = "MaxNorm", ["config"] = new Dictionary<string, object?> { ["max_value"] = 2L, ["axis"] = 0L }, ["registered_name"] = null,
            },
            ["bias_regularizer"] = null,
            ["bias_constraint"] = null,
        };
        var dense = (Dense)Layer.FromConfig("Dense", config);
        Assert.Equal(0.001, Assert.IsType<L2>(dense.WeightRegularizers["kernel"]).Factor);
        Assert.Equal(0.5, Assert.IsType<L1L2>(dense.ActivityRegularizer).L2Factor);
        Assert.Equal(2.0, Assert.IsType<MaxNorm>(dense.WeightConstraints["kernel"]).MaxValue);
        Assert.Equal(new long[] { 0 }, ((MaxNorm)dense.WeightConstraints["kernel"]).Axis);
        Assert.False(dense.WeightRegularizers.ContainsKey("bias"));
        // Written back in the same form (the saver adds module and registered_name).
        var written = dense.GetConfig();
        var kernel = (Dictionary<string, object?>)written["kernel_regularizer"]!;
        Assert.Equal("L2", kernel["class_name"]);
    }

    [Fact]
    public void SaveAndLoad_KeepsRegularizersAndConstraints()
    {
        var model = DenseModel(kernel: "l2", activity: new L1(0.02), kernelConstraint: new MaxNorm(1.5));
        model.Compile(optimizer: "sgd", loss: "mse");
        string path = Path.Combine(Path.GetTempPath(), $"seqsharp-reg-{Guid.NewGuid():N}.keras");
        try
        {
            model.Save(path);
            var again = Sequential.Load(path);
            var dense = (Dense)again.Layers[^1];
            Assert.Equal(0.01, Assert.IsType<L2>(dense.WeightRegularizers["kernel"]).Factor);
            Assert.Equal(0.02, Assert.IsType<L1>(dense.ActivityRegularizer).Factor);
            Assert.Equal(1.5, Assert.IsType<MaxNorm>(dense.WeightConstraints["kernel"]).MaxValue);
            Assert.Equal(model.RegularizationLoss().item<double>(), again.RegularizationLoss().item<double>(), 12);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
