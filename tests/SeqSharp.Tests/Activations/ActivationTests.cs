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
        "linear", "relu", "tanh", "sigmoid", "hard_sigmoid", "elu", "selu", "softplus", "softsign", "exponential",
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
        string[] expected = ["linear", "relu", "tanh", "sigmoid", "hard_sigmoid", "softmax", "elu", "selu", "softplus", "softsign", "swish", "silu", "gelu", "exponential"];
        Assert.Equal(expected.Order(), Activation.Names.Order());
        foreach (string name in expected)
            Assert.Equal(name, Activation.Get(name).Name);
    }

    [Fact]
    public void IsFusable_OnlyForActivationsWithDerivativeFromOutput()
    {
        foreach (string name in Activation.Names)
            Assert.Equal(name is not ("softmax" or "swish" or "silu" or "gelu"), Activation.Get(name).IsFusable);
    }

    [Fact]
    public void Get_UnknownName_ListsValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => Activation.Get("relu6"));
        Assert.Contains("Unknown activation: 'relu6'", e.Message);
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
}
