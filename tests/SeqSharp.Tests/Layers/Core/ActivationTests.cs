using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using Activation = SeqSharp.Layers.Activation;

namespace SeqSharp.Tests.Layers.Core;

public class ActivationTests
{
    [Fact]
    public void Call_Relu_MatchesHandComputedValues()
    {
        var x = tensor(new float[] { -2, -0.5f, 0, 0.5f, 3, -1 }, [1, 2, 3]);
        var y = LayerHarness.Run(new Activation("relu"), x, [1, 2, 3]);
        Assert.Equal(new float[] { 0, 0, 0, 0.5f, 3, 0 }, y.data<float>().ToArray());
    }

    [Fact]
    public void Call_Softmax_NormalisesTheLastAxis()
    {
        var x = tensor(new double[] { 1, 2, 3, 0, 0, 0 }, [2, 3], ScalarType.Float64);
        var y = new Activation("softmax", dtype: ScalarType.Float64).Call(x);
        double z = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        TensorAssert.Close(tensor(new[] { Math.Exp(1) / z, Math.Exp(2) / z, Math.Exp(3) / z, 1 / 3.0, 1 / 3.0, 1 / 3.0 }, [2, 3]), y, atol: 1e-15);
    }

    [Fact]
    public void CallWithMask_PassesMaskOn()
    {
        var mask = tensor(new[,] { { true, false, true } });
        Assert.Same(mask, new Activation("tanh").CallWithMask(zeros(1, 3, 2), mask).Mask);
    }

    [Fact]
    public void Constructor_UnknownName_ListsValidOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => new Activation("relux"));
        Assert.Contains("'relux'", e.Message);
        Assert.Contains("relu", e.Message);
    }
}
