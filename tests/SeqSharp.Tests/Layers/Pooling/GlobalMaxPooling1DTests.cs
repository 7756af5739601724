using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Pooling;

public class GlobalMaxPooling1DTests
{
    [Fact]
    public void Call_MaxOverSteps()
    {
        var x = randn(3, 5, 4);
        TensorAssert.Close(x.amax([1]), LayerHarness.Run(new GlobalMaxPooling1D(), x, [3, 4]), atol: 0);
        Assert.Equal(new long[] { 3, 1, 4 }, new GlobalMaxPooling1D(keepdims: true).Call(x).shape);
    }

    [Fact]
    public void Call_Gradient_GoesToTheMaximum()
    {
        var x = tensor(new float[] { 1, 5, 3 }, [1, 3, 1]).requires_grad_(true);
        new GlobalMaxPooling1D().Call(x).sum().backward();
        Assert.Equal(new float[] { 0, 1, 0 }, x.grad!.data<float>().ToArray());
    }
}
