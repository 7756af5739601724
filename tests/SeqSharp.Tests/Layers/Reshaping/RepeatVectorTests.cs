using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Reshaping;

public class RepeatVectorTests
{
    [Fact]
    public void Call_Vector_RepeatedAlongNewTimeAxis()
    {
        var x = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        var y = LayerHarness.Run(new RepeatVector(3), x, [2, 3, 2]);
        Assert.Equal(new float[] { 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4 }, y.contiguous().data<float>().ToArray());
    }

    [Fact]
    public void Call_Gradient_SumsOverRepetitions()
    {
        var x = randn(2, 3).requires_grad_(true);
        var probe = randn(2, 4, 3);
        (new RepeatVector(4).Call(x) * probe).sum().backward();
        TensorAssert.Close(probe.sum(dim: 1), x.grad!, atol: 1e-6);
    }

    [Fact]
    public void Call_Rank3Input_ThrowsNamingExpectedRank()
    {
        var e = Assert.Throws<ArgumentException>(() => new RepeatVector(2, name: "rv").Call(zeros(2, 3, 4)));
        Assert.Contains("'rv'", e.Message);
        Assert.Contains("expected rank 2", e.Message);
    }

    [Fact]
    public void Constructor_NonPositiveN_Throws()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RepeatVector(0));
        Assert.Contains("n=0", e.Message);
    }
}
