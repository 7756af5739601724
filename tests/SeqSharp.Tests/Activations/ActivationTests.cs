using SeqSharp.Activations;
using SeqSharp.Layers.Kernels;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Activations;

public class ActivationTests
{
    private static readonly double[] Inputs = [-4, -1, 0, 0.5, 3];

    public static TheoryData<string> ElementWiseNames => new(ReferenceActivations.ByName.Keys);

    public static TheoryData<string> FusableNames => new()
    {
        "linear", "relu", "tanh", "sigmoid", "hard_sigmoid", "hard_sigmoid_keras2", "elu", "selu", "softplus", "softsign", "exponential",
    };

    [Theory]
    [MemberData(nameof(ElementWiseNames))]
    public void Apply_KerasName_MatchesHandComputedValues(string name)
    {
        var f = ReferenceActivations.ByName[name];
        var x = tensor(Inputs, ScalarType.Float64);
        var expected = tensor(Inputs.Select(f).ToArray(), ScalarType.Float64);
        TensorAssert.Close(expected, Activation.Get(name).Apply(x), atol: 1e-12, rtol: 1e-12, what: name);
    }

    [Theory]
    [MemberData(nameof(ElementWiseNames))]
    public void Apply_Float32Input_StaysFloat32AndClose(string name)
    {
        var f = ReferenceActivations.ByName[name];
        var y = Activation.Get(name).Apply(tensor(Inputs.Select(v => (float)v).ToArray()));
        Assert.Equal(ScalarType.Float32, y.dtype);
        TensorAssert.Close(tensor(Inputs.Select(f).ToArray(), ScalarType.Float64), y, atol: 1e-6, rtol: 1e-6, what: name);
    }

    [Fact]
    public void Apply_HardSigmoid_IsKeras3Relu6Form()
    {
        // Keras 3 changed hard_sigmoid from 0.2x + 0.5 (Keras 2) to relu6(x + 3) / 6.
        var y = Activation.Get("hard_sigmoid").Apply(tensor(new[] { -4.0, -3, -1, 0, 0.5, 3, 4 }, ScalarType.Float64));
        TensorAssert.Close(tensor(new[] { 0, 0, 2.0 / 6, 0.5, 3.5 / 6, 1, 1 }, ScalarType.Float64), y, atol: 1e-15, what: "hard_sigmoid");
        // Keras 2's, kept for the files Keras 2 wrote: clip(0.2x + 0.5, 0, 1).
        var y2 = Activation.Get("hard_sigmoid_keras2").Apply(tensor(new[] { -4.0, -2.5, -1, 0, 0.5, 2.5, 4 }, ScalarType.Float64));
        TensorAssert.Close(tensor(new[] { 0, 0, 0.3, 0.5, 0.6, 1, 1 }, ScalarType.Float64), y2, atol: 1e-15, what: "hard_sigmoid_keras2");
    }

    [Fact]
    public void Apply_Softmax_NormalisesOverTheLastAxis()
    {
        double[][] rows = [Inputs, [1, 1, 1, 1, 1], [0, 10, -10, 2, 0.25]];
        var expected = rows.Select(r =>
        {
            double total = r.Sum(Math.Exp);
            return r.Select(v => Math.Exp(v) / total).ToArray();
        }).SelectMany(r => r).ToArray();
        var x = tensor(rows.SelectMany(r => r).ToArray(), [3, 5], ScalarType.Float64);
        var y = Activation.Get("softmax").Apply(x);
        TensorAssert.Close(tensor(expected, [3, 5], ScalarType.Float64), y, atol: 1e-15, what: "softmax");

        // Rank 3: still the last axis, every (sample, step) row sums to one.
        var z = Activation.Get("softmax").Apply(randn(2, 4, 3, dtype: ScalarType.Float64));
        TensorAssert.Close(ones(2, 4, dtype: ScalarType.Float64), z.sum(dim: -1), atol: 1e-15, what: "row sums");
    }

    [Fact]
    public void Apply_IsDifferentiable()
    {
        var x = tensor(new[] { -1.0, 0.5, 3 }, ScalarType.Float64).requires_grad_(true);
        Activation.Get("tanh").Apply(x).sum().backward();
        var expected = tensor(new[] { -1.0, 0.5, 3 }.Select(v => 1 - Math.Tanh(v) * Math.Tanh(v)).ToArray(), ScalarType.Float64);
        TensorAssert.Close(expected, x.grad!, atol: 1e-15, what: "tanh gradient");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Get_NullOrEmpty_IsLinear(string? name)
    {
        Assert.Equal("linear", Activation.Get(name).Name);
    }

    [Fact]
    public void Names_AreExactlyTheKerasNames()
    {
        // keras/src/activations/__init__.py (Keras 3.16): ALL_OBJECTS_DICT without "threshold", which has no defaults.
        string[] expected =
        [
            "linear", "relu", "tanh", "sigmoid", "hard_sigmoid", "softmax", "elu", "selu", "softplus", "softsign", "swish", "silu", "gelu", "exponential",
            "leaky_relu", "relu6", "mish", "hard_silu", "hard_swish", "hard_tanh", "log_softmax", "log_sigmoid", "celu", "glu", "tanh_shrink",
            "soft_shrink", "hard_shrink", "sparse_plus", "squareplus", "sparse_sigmoid", "sparsemax",
        ];
        // Plus SeqSharp's hard_sigmoid_keras2: Keras 2's hard_sigmoid, for the files Keras 2 wrote.
        Assert.Equal(expected.Append("hard_sigmoid_keras2").Order(), Activation.Names.Order());
        foreach (string name in expected)
            Assert.Equal(name, Activation.Get(name).Name);
    }

    [Fact]
    public void IsFusable_OnlyForActivationsWithDerivativeFromOutput()
    {
        foreach (string name in Activation.Names)
            Assert.Equal(new[] { "linear", "relu", "tanh", "sigmoid", "hard_sigmoid", "hard_sigmoid_keras2", "elu", "selu", "softplus", "softsign", "exponential" }.Contains(name), Activation.Get(name).IsFusable);
    }

    [Fact]
    public void Get_UnknownName_ListsValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => Activation.Get("relu7"));
        Assert.Contains("Unknown activation: 'relu7'", e.Message);
        foreach (string name in Activation.Names)
            Assert.Contains(name, e.Message);
    }

    [Theory]
    [MemberData(nameof(FusableNames))]
    public void ActivationMath_Apply_MatchesHandComputedValues(string name)
    {
        var kind = Activation.Get(name).Kind;
        var f = ReferenceActivations.ByName[name];
        // 19 points: not a multiple of any vector width, so the scalar tails run too.
        double[] x = Enumerable.Range(0, 19).Select(k => -4.1 + 0.43 * k).ToArray();
        double[] y = (double[])x.Clone();
        ActivationMath.Apply<double>(kind, y);
        for (int k = 0; k < x.Length; k++)
            Assert.True(Math.Abs(f(x[k]) - y[k]) <= 1e-14 * Math.Max(1, Math.Abs(y[k])), $"{name}({x[k]}) = {y[k]}, expected {f(x[k])}.");

        float[] yf = x.Select(v => (float)v).ToArray();
        ActivationMath.Apply<float>(kind, yf);
        for (int k = 0; k < x.Length; k++)
            Assert.True(Math.Abs(f(x[k]) - yf[k]) <= 1e-6 * Math.Max(1, Math.Abs(yf[k])), $"{name}({x[k]}) = {yf[k]} in float32, expected {f(x[k])}.");
    }

    [Theory]
    [MemberData(nameof(FusableNames))]
    public void ActivationMath_DerivativeFromOutput_MatchesFiniteDifferences(string name)
    {
        var kind = Activation.Get(name).Kind;
        var f = ReferenceActivations.ByName[name];
        // Grid points stay away from the kinks at 0 (relu, elu, selu) and ±3 (hard_sigmoid).
        double[] x = Enumerable.Range(0, 19).Select(k => -4.1 + 0.43 * k).ToArray();
        double[] y = x.Select(f).ToArray();
        const double h = 1e-6;
        double[] numeric = x.Select(v => (f(v + h) - f(v - h)) / (2 * h)).ToArray();

        double[] scaled = Enumerable.Repeat(1.0, x.Length).ToArray();
        ActivationMath.MultiplyByDerivative<double>(kind, y, scaled);
        float[] scaledFloat = Enumerable.Repeat(1f, x.Length).ToArray();
        ActivationMath.MultiplyByDerivative<float>(kind, y.Select(v => (float)v).ToArray(), scaledFloat);
        for (int k = 0; k < x.Length; k++)
        {
            double d = ActivationMath.Derivative(kind, y[k]);
            double tolerance = 1e-8 * Math.Max(1, Math.Abs(numeric[k]));
            Assert.True(Math.Abs(d - numeric[k]) <= tolerance, $"{name}'({x[k]}) from output {y[k]}: {d}, finite differences {numeric[k]}.");
            Assert.True(Math.Abs(scaled[k] - numeric[k]) <= tolerance, $"{name}: MultiplyByDerivative at {x[k]} gave {scaled[k]}, finite differences {numeric[k]}.");
            Assert.True(Math.Abs(scaledFloat[k] - numeric[k]) <= 1e-5 * Math.Max(1, Math.Abs(numeric[k])),
                $"{name}: float32 MultiplyByDerivative at {x[k]} gave {scaledFloat[k]}, finite differences {numeric[k]}.");
        }
    }

    [Fact]
    public void Get_Threshold_ExplainsItNeedsArguments()
    {
        var e = Assert.Throws<ArgumentException>(() => Activation.Get("threshold"));
        Assert.Contains("threshold and default_value", e.Message);
    }

    [Fact]
    public void Apply_LogSoftmax_IsLogOfSoftmaxOverTheLastAxis()
    {
        double[] row = [0, 10, -10, 2, 0.25];
        double logTotal = Math.Log(row.Sum(Math.Exp));
        var y = Activation.Get("log_softmax").Apply(tensor(row.Concat(Inputs).ToArray(), [2, 5], ScalarType.Float64));
        double logTotal2 = Math.Log(Inputs.Sum(Math.Exp));
        var expected = row.Select(v => v - logTotal).Concat(Inputs.Select(v => v - logTotal2)).ToArray();
        TensorAssert.Close(tensor(expected, [2, 5], ScalarType.Float64), y, atol: 1e-13, what: "log_softmax");
    }

    [Fact]
    public void Apply_Sparsemax_MatchesHandComputedProjection()
    {
        // [2, 1, 0.1]: sorted cumulative sums 2, 3, 3.1; support k = 1 (2 > (2-1)/1 but 1 < (3-1)/2), tau = 1: [1, 0, 0].
        // [0.5, 0.4, -1]: k = 2 (0.4 > (0.9-1)/2, -1 < (-0.1-1)/3), tau = (0.9-1)/2 = -0.05: [0.55, 0.45, 0].
        // [0, 0, 0]: k = 3, tau = -1/3: each 1/3.
        var x = tensor(new[] { 2.0, 1, 0.1, 0.5, 0.4, -1, 0, 0, 0 }, [3, 3], ScalarType.Float64);
        var y = Activation.Get("sparsemax").Apply(x);
        var expected = tensor(new[] { 1.0, 0, 0, 0.55, 0.45, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3 }, [3, 3], ScalarType.Float64);
        TensorAssert.Close(expected, y, atol: 1e-14, what: "sparsemax");
    }

    [Fact]
    public void Apply_Glu_GatesTheFirstHalfWithTheSecond()
    {
        var x = tensor(new[] { 1.0, -2, 0.5, 3 }, [1, 4], ScalarType.Float64);
        var y = Activation.Get("glu").Apply(x);
        var expected = tensor(new[] { 1.0 * ReferenceActivations.Sigmoid(0.5), -2 * ReferenceActivations.Sigmoid(3) }, [1, 2], ScalarType.Float64);
        TensorAssert.Close(expected, y, atol: 1e-15, what: "glu");
        Assert.Throws<ArgumentException>(() => Activation.Get("glu").Apply(ones(2, 3)));
        Assert.Equal(new long[] { 5, 2 }, Activation.Get("glu").ComputeOutputShape([5, 4]));
    }

    [Fact]
    public void Glu_InDense_HalvesUnitsAndIsRefusedByRecurrentCells()
    {
        var dense = new SeqSharp.Layers.Dense(6, activation: "glu", inputShape: [3]);
        Assert.Equal(new long[] { 2, 3 }, dense.Call(ones(2, 3)).shape);
        dense.Build([3]);
        Assert.Equal(new long[] { 3 }, dense.OutputShape);
        var e = Assert.Throws<ArgumentException>(() => new SeqSharp.Layers.LSTM(4, activation: "glu"));
        Assert.Contains("halves the last axis", e.Message);
    }

    [Theory]
    [InlineData("leaky_relu")]
    [InlineData("mish")]
    [InlineData("squareplus")]
    [InlineData("sparse_plus")]
    [InlineData("log_sigmoid")]
    public void Apply_NewActivations_GradientMatchesFiniteDifferences(string name)
    {
        var f = ReferenceActivations.ByName[name];
        double[] points = [-2.3, -0.7, 0.4, 1.9];
        var x = tensor(points, ScalarType.Float64).requires_grad_(true);
        Activation.Get(name).Apply(x).sum().backward();
        const double h = 1e-6;
        var numeric = tensor(points.Select(v => (f(v + h) - f(v - h)) / (2 * h)).ToArray(), ScalarType.Float64);
        TensorAssert.Close(numeric, x.grad!, atol: 1e-8, what: name + " gradient");
    }
}
