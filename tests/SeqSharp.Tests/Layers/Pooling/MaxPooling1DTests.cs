using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Pooling;

public class MaxPooling1DTests
{
    private static readonly Tensor Ramp = tensor(new float[] { 1, 2, 3, 4, 5 }, [1, 5, 1]);

    [Fact]
    public void Call_KerasDocumentationExamples()
    {
        // keras.layers.MaxPooling1D docs: x = [1, 2, 3, 4, 5].
        Assert.Equal(new float[] { 2, 3, 4, 5 }, new MaxPooling1D(2, strides: 1).Call(Ramp).data<float>().ToArray());
        Assert.Equal(new float[] { 2, 4 }, new MaxPooling1D(2, strides: 2).Call(Ramp).data<float>().ToArray());
        Assert.Equal(new float[] { 2, 3, 4, 5, 5 }, new MaxPooling1D(2, strides: 1, padding: "same").Call(Ramp).data<float>().ToArray());
    }

    [Theory]
    [InlineData(3, null, "valid", 10)]
    [InlineData(3, 2, "same", 10)]
    [InlineData(4, 3, "same", 11)]
    [InlineData(2, null, "same", 7)]
    public void Call_MatchesHandWrittenLoop(int pool, int? strides, string padding, int steps)
    {
        var x = randn(2, steps, 3);
        var y = LayerHarness.Run(new MaxPooling1D(pool, strides, padding), x, Expected(x, pool, strides ?? pool, padding, average: false).shape);
        TensorAssert.Close(Expected(x, pool, strides ?? pool, padding, average: false), y, atol: 0);
    }

    [Fact]
    public void CallWithMask_DropsTheMaskLikeKeras()
    {
        Assert.Null(new MaxPooling1D().CallWithMask(zeros(1, 4, 2), ones(1, 4)).Mask);
    }

    [Fact]
    public void Build_FewerStepsThanPool_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new MaxPooling1D(4, name: "mp").Build([3, 2]));
        Assert.Contains("'mp' needs at least 4 steps", e.Message);
    }

    /// <summary>Pooling by loops over windows, padding split as TensorFlow does and never counted.</summary>
    internal static Tensor Expected(Tensor x, int pool, int stride, string padding, bool average)
    {
        int batch = (int)x.shape[0], steps = (int)x.shape[1], channels = (int)x.shape[2];
        int outSteps = padding == "valid" ? (steps - pool) / stride + 1 : (steps + stride - 1) / stride;
        int before = padding == "valid" ? 0 : Math.Max((outSteps - 1) * stride + pool - steps, 0) / 2;
        var values = x.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        var y = new double[batch, outSteps, channels];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < outSteps; t++)
                for (int c = 0; c < channels; c++)
                {
                    var window = Enumerable.Range(t * stride - before, pool).Where(s => s >= 0 && s < steps)
                        .Select(s => values[(b * steps + s) * channels + c]).ToArray();
                    y[b, t, c] = average ? window.Average() : window.Max();
                }
        return tensor(y).to_type(x.dtype);
    }
}
