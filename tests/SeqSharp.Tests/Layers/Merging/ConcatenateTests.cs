using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Merging;

public class ConcatenateTests
{
    [Fact]
    public void CallWithMasks_KerasTestCase_JoinsValuesAndMasksAsKeras()
    {
        // keras-team/keras, keras/src/layers/merging/merging_test.py (commit 3422977a), test_concatenate_with_mask:
        // only x1 is masked (Masking(): steps 0 and 2 are all zero).
        var x1 = tensor(new double[,,] { { { 0, 0 }, { 1, 2 }, { 0, 0 }, { 3, 4 } } });
        var x2 = tensor(new double[,,] { { { 0, 0 }, { 0, 0 }, { 1, 2 }, { 3, 4 } } });
        var m1 = tensor(new[,] { { false, true, false, true } });

        var (outputs, mask) = new Concatenate(axis: 1).CallWithMasks([x1, x2], [m1, null], null);
        TensorAssert.Close(tensor(new double[,,] { { { 0, 0 }, { 1, 2 }, { 0, 0 }, { 3, 4 }, { 0, 0 }, { 0, 0 }, { 1, 2 }, { 3, 4 } } }), outputs[0], atol: 0, what: "axis 1");
        Assert.Equal(new[] { false, true, false, true, true, true, true, true }, mask!.data<bool>().ToArray());

        (outputs, mask) = new Concatenate(axis: 2).CallWithMasks([x1, x2], [m1, null], null);
        TensorAssert.Close(tensor(new double[,,] { { { 0, 0, 0, 0 }, { 1, 2, 0, 0 }, { 0, 0, 1, 2 }, { 3, 4, 3, 4 } } }), outputs[0], atol: 0, what: "axis 2");
        Assert.Equal(new[] { true, true, true, true }, mask!.data<bool>().ToArray());

        var m2 = tensor(new[,] { { false, false, true, true } });
        (_, mask) = new Concatenate().CallWithMasks([x1, x2], [m1, m2], null);
        Assert.Equal(new[] { false, true, true, true }, mask!.data<bool>().ToArray());
        (_, mask) = new Concatenate().CallWithMasks([x1, x2], [null, null], null);
        Assert.Null(mask);
    }

    [Fact]
    public void Call_Features_JoinsByIndexAndPassesGradientsBack()
    {
        manual_seed(5);
        var a = randn(2, 3, 4, dtype: ScalarType.Float64).requires_grad_(true);
        var b = randn(2, 3, 2, dtype: ScalarType.Float64).requires_grad_(true);
        var layer = new Concatenate(dtype: ScalarType.Float64);
        var y = layer.Call([a, b]);
        Assert.Equal(new long[] { 2, 3, 6 }, y.shape);
        for (int n = 0; n < 2; n++)
            for (int t = 0; t < 3; t++)
                for (int f = 0; f < 6; f++)
                    Assert.Equal(f < 4 ? a[n, t, f].item<double>() : b[n, t, f - 4].item<double>(), y[n, t, f].item<double>());
        Assert.Equal(new long[] { 3, 6 }, layer.OutputShape);
        var weights = arange(36, dtype: ScalarType.Float64).reshape(2, 3, 6);
        (y * weights).sum().backward();
        TensorAssert.Close(weights[.., .., ..4], a.grad!, atol: 0, what: "gradient of a");
        TensorAssert.Close(weights[.., .., 4..], b.grad!, atol: 0, what: "gradient of b");
    }

    [Fact]
    public void ComputeOutputShape_UnknownSizes_StayUnknownOnTheAxis()
    {
        var layer = new Concatenate(axis: 1);
        Assert.Equal(new long[] { -1, 3 }, layer.ComputeOutputShape([[-1, 3], [5, 3]]));
        Assert.Equal(new long[] { 9, 3 }, layer.ComputeOutputShape([[4, 3], [5, -1]]));
    }

    [Fact]
    public void Call_MismatchedShapes_NameTheLayerAndTheShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => new Concatenate(name: "cat").Call([zeros(2, 3, 4), zeros(2, 5, 4)]));
        Assert.Contains("'cat'", e.Message);
        Assert.Contains("matching shapes except for the concatenation axis -1", e.Message);
        Assert.Contains("(None, 3, 4)", e.Message);
        Assert.Contains("(None, 5, 4)", e.Message);
        var rank = Assert.Throws<ArgumentException>(() => new Concatenate(name: "cat2").Call([zeros(2, 3, 4), zeros(2, 4)]));
        Assert.Contains("same rank", rank.Message);
        var axis = Assert.Throws<ArgumentException>(() => new Concatenate(axis: 3, name: "cat3").Call([zeros(2, 4), zeros(2, 4)]));
        Assert.Contains("axis 3", axis.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Concatenate(axis: 0));
    }

    [Fact]
    public void FromConfig_GetConfig_RoundTripsTheAxis()
    {
        var layer = new Concatenate(axis: 1, name: "join");
        var config = layer.GetConfig();
        Assert.Equal(1, config["axis"]);
        var again = (Concatenate)Layer.FromConfig("Concatenate", config);
        Assert.Equal(1, again.Axis);
        Assert.Equal("join", again.Name);
    }
}
