using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Pooling;

public class AveragePooling1DTests
{
    [Fact]
    public void Call_SamePadding_AveragesOnlyRealStepsLikeKeras()
    {
        // keras.layers.AveragePooling1D docs: [1, 2, 3, 4, 5], pool 2, strides 1, "same" → [1.5, 2.5, 3.5, 4.5, 5].
        var x = tensor(new float[] { 1, 2, 3, 4, 5 }, [1, 5, 1]);
        Assert.Equal(new float[] { 1.5f, 2.5f, 3.5f, 4.5f, 5 }, new AveragePooling1D(2, strides: 1, padding: "same").Call(x).data<float>().ToArray());
        Assert.Equal(new float[] { 1.5f, 3.5f }, new AveragePooling1D().Call(x).data<float>().ToArray());
    }

    [Theory]
    [InlineData(3, null, "valid", 10)]
    [InlineData(3, 2, "same", 10)]
    [InlineData(5, 2, "same", 9)]
    [InlineData(4, 1, "same", 6)]
    public void Call_MatchesHandWrittenLoop(int pool, int? strides, string padding, int steps)
    {
        var x = randn(2, steps, 3, dtype: ScalarType.Float64);
        var expected = MaxPooling1DTests.Expected(x, pool, strides ?? pool, padding, average: true);
        var y = LayerHarness.Run(new AveragePooling1D(pool, strides, padding, dtype: ScalarType.Float64), x, expected.shape);
        TensorAssert.Close(expected, y, atol: 1e-14);
    }

    [Fact]
    public void Gradient_SamePadding_SpreadsOverRealStepsOnly()
    {
        var x = ones(1, 3, 1, dtype: ScalarType.Float64).requires_grad_(true);
        new AveragePooling1D(2, strides: 2, padding: "same", dtype: ScalarType.Float64).Call(x).sum().backward();
        // Windows [x0, x1] and [x2] (one padding step after): d/dx = 1/2, 1/2, 1.
        Assert.Equal(new double[] { 0.5, 0.5, 1 }, x.grad!.data<double>().ToArray());
    }
}
