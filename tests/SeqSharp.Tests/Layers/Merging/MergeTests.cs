using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Merging;

/// <summary>
/// The element-wise merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum): values against
/// formulas written out here in float64, Keras 3's own expected values with masks, shapes, bad input.
/// </summary>
public class MergeTests
{
    // keras-team/keras, keras/src/layers/merging/merging_test.py (commit 3422977a), test_*_with_mask:
    // Masking() masks the all-zero steps: x1 keeps steps 1 and 3, x2 keeps steps 2 and 3.
    private static readonly double[,,] X1 = { { { 0, 0 }, { 1, 2 }, { 0, 0 }, { 3, 4 } } };
    private static readonly double[,,] X2 = { { { 0, 0 }, { 0, 0 }, { 1, 2 }, { 3, 4 } } };
    private static readonly bool[,] M1 = { { false, true, false, true } };
    private static readonly bool[,] M2 = { { false, false, true, true } };

    public static TheoryData<string, Func<MultiInputLayer>, double[,,], double[,,], double[,,]> KerasMaskCases => new()
    {
        // class, layer, x1 (or its negation for Maximum), expected with only x1 masked, expected with both masked
        { "Add", () => new Add(), X1, new double[,,] { { { 0, 0 }, { 1, 2 }, { 1, 2 }, { 6, 8 } } }, new double[,,] { { { 0, 0 }, { 1, 2 }, { 1, 2 }, { 6, 8 } } } },
        { "Subtract", () => new Subtract(), X1, new double[,,] { { { 0, 0 }, { 1, 2 }, { -1, -2 }, { 0, 0 } } }, new double[,,] { { { 0, 0 }, { 1, 2 }, { -1, -2 }, { 0, 0 } } } },
        { "Average", () => new Average(), X1, new double[,,] { { { 0, 0 }, { 0.5, 1 }, { 0.5, 1 }, { 3, 4 } } }, new double[,,] { { { 0, 0 }, { 0.5, 1 }, { 0.5, 1 }, { 3, 4 } } } },
        { "Multiply", () => new Multiply(), X1, new double[,,] { { { 0, 0 }, { 0, 0 }, { 1, 2 }, { 9, 16 } } }, new double[,,] { { { 0, 0 }, { 1, 2 }, { 1, 2 }, { 9, 16 } } } },
        { "Minimum", () => new Minimum(), X1, new double[,,] { { { 0, 0 }, { 0, 0 }, { 1, 2 }, { 3, 4 } } }, new double[,,] { { { 0, 0 }, { 1, 2 }, { 1, 2 }, { 3, 4 } } } },
        { "Maximum", () => new Maximum(), Negate(X1), new double[,,] { { { 0, 0 }, { 0, 0 }, { -1, -2 }, { -3, -4 } } }, new double[,,] { { { 0, 0 }, { -1, -2 }, { -1, -2 }, { -3, -4 } } } },
    };

    private static double[,,] Negate(double[,,] a)
    {
        var b = (double[,,])a.Clone();
        for (int i = 0; i < b.GetLength(1); i++)
            for (int j = 0; j < b.GetLength(2); j++)
                b[0, i, j] = -b[0, i, j];
        return b;
    }

    [Theory]
    [MemberData(nameof(KerasMaskCases))]
    public void CallWithMasks_KerasTestCases_GiveKerasValuesAndTheOrOfTheMasks(string className, Func<MultiInputLayer> make, double[,,] x1, double[,,] oneMasked, double[,,] bothMasked)
    {
        var a = tensor(x1);
        var b = className == "Maximum" ? tensor(Negate(X2)) : tensor(X2);
        var layer = make();
        Assert.Equal(className, layer.ClassName);

        var (outputs, mask) = layer.CallWithMasks([a, b], [tensor(M1), null], null);
        TensorAssert.Close(tensor(oneMasked), outputs[0], atol: 1e-6, what: $"{className}, x1 masked");
        Assert.Null(mask);

        (outputs, mask) = layer.CallWithMasks([a, b], [tensor(M1), tensor(M2)], null);
        TensorAssert.Close(tensor(bothMasked), outputs[0], atol: 1e-6, what: $"{className}, both masked");
        Assert.Equal(new[] { false, true, true, true }, mask!.data<bool>().ToArray());
    }

    [Fact]
    public void Call_ThreeInputs_MatchFormulasInFloat64()
    {
        manual_seed(3);
        var x = Enumerable.Range(0, 3).Select(_ => randn(2, 4, 5, dtype: ScalarType.Float64)).ToArray();
        var (a, b, c) = (x[0].data<double>().ToArray(), x[1].data<double>().ToArray(), x[2].data<double>().ToArray());
        double[] Each(Func<double, double, double, double> f) => a.Select((_, i) => f(a[i], b[i], c[i])).ToArray();
        Tensor Expected(Func<double, double, double, double> f) => tensor(Each(f)).reshape(2, 4, 5);

        TensorAssert.Close(Expected((p, q, r) => p + q + r), new Add(dtype: ScalarType.Float64).Call(x), atol: 1e-12, what: "Add");
        TensorAssert.Close(Expected((p, q, r) => (p + q + r) / 3), new Average(dtype: ScalarType.Float64).Call(x), atol: 1e-12, what: "Average");
        TensorAssert.Close(Expected((p, q, r) => p * q * r), new Multiply(dtype: ScalarType.Float64).Call(x), atol: 1e-12, what: "Multiply");
        TensorAssert.Close(Expected((p, q, r) => Math.Max(p, Math.Max(q, r))), new Maximum(dtype: ScalarType.Float64).Call(x), atol: 0, what: "Maximum");
        TensorAssert.Close(Expected((p, q, r) => Math.Min(p, Math.Min(q, r))), new Minimum(dtype: ScalarType.Float64).Call(x), atol: 0, what: "Minimum");
        TensorAssert.Close(Expected((p, q, _) => p - q), new Subtract(dtype: ScalarType.Float64).Call([x[0], x[1]]), atol: 1e-12, what: "Subtract");
    }

    [Fact]
    public void Call_LowerRankAndSizeOneInputs_BroadcastAfterTheBatchAxisAsKeras()
    {
        manual_seed(4);
        var a = randn(2, 3, 4, dtype: ScalarType.Float64);
        var b = randn(2, 4, dtype: ScalarType.Float64);
        var c = randn(2, 3, 1, dtype: ScalarType.Float64);
        var layer = new Add(dtype: ScalarType.Float64);
        var y = layer.Call([a, b, c]);
        var expected = zeros(2, 3, 4, dtype: ScalarType.Float64);
        for (int n = 0; n < 2; n++)
            for (int t = 0; t < 3; t++)
                for (int f = 0; f < 4; f++)
                    expected[n, t, f] = a[n, t, f] + b[n, f] + c[n, t, 0];
        TensorAssert.Close(expected, y, atol: 1e-12, what: "broadcast sum");
        Assert.Equal(new long[] { 3, 4 }, layer.OutputShape);
        Assert.Equal(new long[] { -1, 4 }, new Add().ComputeOutputShape([[-1, 4], [7, 1]]));
    }

    [Fact]
    public void Call_Gradients_ReachEveryInput()
    {
        var a = tensor(new double[] { 1, 5, -2 }).reshape(1, 3).requires_grad_(true);
        var b = tensor(new double[] { 3, 2, -1 }).reshape(1, 3).requires_grad_(true);
        new Maximum(dtype: ScalarType.Float64).Call([a, b]).sum().backward();
        Assert.Equal(new double[] { 0, 1, 0 }, a.grad!.data<double>().ToArray());
        Assert.Equal(new double[] { 1, 0, 1 }, b.grad!.data<double>().ToArray());
        a.grad!.zero_();
        b.grad!.zero_();
        new Multiply(dtype: ScalarType.Float64).Call([a, b]).sum().backward();
        Assert.Equal(new double[] { 3, 2, -1 }, a.grad!.data<double>().ToArray());
        Assert.Equal(new double[] { 1, 5, -2 }, b.grad!.data<double>().ToArray());
    }

    [Fact]
    public void Call_MismatchedShapes_NameTheLayerAndTheShapes()
    {
        var layer = new Add(name: "joiner");
        var e = Assert.Throws<ArgumentException>(() => layer.Call([zeros(2, 3, 4), zeros(2, 3, 5)]));
        Assert.Contains("'joiner'", e.Message);
        Assert.Contains("(None, 3, 4)", e.Message);
        Assert.Contains("(None, 3, 5)", e.Message);
        Assert.False(layer.Built);

        var batches = Assert.Throws<ArgumentException>(() => new Average(name: "avg").Call([zeros(2, 3), zeros(5, 3)]));
        Assert.Contains("'avg'", batches.Message);
        Assert.Contains("[2, 3]", batches.Message);
        Assert.Contains("[5, 3]", batches.Message);
    }

    [Fact]
    public void Call_WrongNumberOfInputs_SaysHowManyAreExpected()
    {
        var e = Assert.Throws<ArgumentException>(() => new Subtract(name: "minus").Call([zeros(2, 3), zeros(2, 3), zeros(2, 3)]));
        Assert.Contains("'minus'", e.Message);
        Assert.Contains("expects 2 inputs. Received: 3", e.Message);
        var none = Assert.Throws<ArgumentException>(() => new Add(name: "plus").Call([]));
        Assert.Contains("'plus'", none.Message);
        Assert.Contains("1 or more", none.Message);
    }

    [Fact]
    public void CallWithMasks_BadMaskOrCallArgument_Refused()
    {
        var layer = new Add(name: "plus");
        var mask = Assert.Throws<ArgumentException>(() => layer.CallWithMasks([zeros(2, 3, 4), zeros(2, 3, 4)], [ones(2, 4, dtype: ScalarType.Bool), null], null));
        Assert.Contains("'plus'", mask.Message);
        Assert.Contains("[2, 4]", mask.Message);
        var args = Assert.Throws<ArgumentException>(() => layer.CallWithMasks([zeros(2, 3), zeros(2, 3)], null, new Dictionary<string, object?> { ["use_causal_mask"] = true }));
        Assert.Contains("'use_causal_mask'", args.Message);
    }

    [Fact]
    public void Call_ActivityRegularizer_AddsAPenaltyPerOutputDividedByTheBatchAsKeras()
    {
        var a = tensor(new double[,] { { 1, -2 }, { 3, 0.5 } });
        var b = tensor(new double[,] { { -4, 1 }, { 1, 1 } });
        var layer = new Add(dtype: ScalarType.Float64) { ActivityRegularizer = new SeqSharp.Regularizers.L1(0.5) };
        using var penalties = SeqSharp.Regularizers.ActivityPenalties.Begin();
        layer.Call([a, b]);
        // 0.5 · (|−3| + |−1| + |4| + |1.5|) / 2 samples
        Assert.Equal(0.5 * 9.5 / 2, Assert.Single(penalties.Penalties).item<double>(), 12);
    }

    [Theory]
    [InlineData("Add")]
    [InlineData("Subtract")]
    [InlineData("Multiply")]
    [InlineData("Average")]
    [InlineData("Maximum")]
    [InlineData("Minimum")]
    public void FromConfig_GetConfig_KeepsNameAndDType(string className)
    {
        var config = new Dictionary<string, object?> { ["name"] = "m", ["dtype"] = "float64", ["trainable"] = true };
        var layer = Layer.FromConfig(className, config);
        Assert.Equal(className, layer.ClassName);
        var again = Layer.FromConfig(className, layer.GetConfig());
        Assert.Equal("m", again.Name);
        Assert.Equal(ScalarType.Float64, again.DType);
        Assert.Equal(LayerHarness.Json(layer.GetConfig()), LayerHarness.Json(again.GetConfig()));
        Assert.Empty(again.Weights);
    }
}
