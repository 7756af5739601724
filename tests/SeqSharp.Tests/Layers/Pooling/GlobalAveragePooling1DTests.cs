using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Pooling;

public class GlobalAveragePooling1DTests
{
    [Fact]
    public void Call_MeanOverSteps()
    {
        var x = randn(3, 5, 4);
        TensorAssert.Close(x.mean([1]), LayerHarness.Run(new GlobalAveragePooling1D(), x, [3, 4]), atol: 1e-6);
        Assert.Equal(new long[] { 3, 1, 4 }, new GlobalAveragePooling1D(keepdims: true).Call(x).shape);
    }

    [Fact]
    public void CallWithMask_AveragesUnmaskedStepsOnlyAndReturnsNoMask()
    {
        var x = tensor(new float[] { 1, 10, 2, 20, 3, 30, 4, 40 }, [2, 2, 2]);
        var mask = tensor(new[,] { { true, false }, { true, true } });
        var (y, outMask) = new GlobalAveragePooling1D().CallWithMask(x, mask);
        Assert.Equal(new float[] { 1, 10, 3.5f, 35 }, y.data<float>().ToArray());
        Assert.Null(outMask);
    }
}
