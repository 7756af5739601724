using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Reshaping;

public class PermuteTests
{
    [Fact]
    public void Call_TwoOne_SwapsTimeAndFeatures()
    {
        var x = randn(2, 5, 3);
        var y = LayerHarness.Run(new Permute([2, 1]), x, [2, 3, 5]);
        TensorAssert.Close(x.transpose(1, 2), y, atol: 0);
    }

    [Fact]
    public void Call_ThreeAxes_OneBasedLikeKeras()
    {
        // Output axis k (1-based) is input axis dims[k-1]: y[b, i, j, k] = x[b, j, k, i].
        var x = randn(2, 3, 4, 5);
        var y = new Permute([3, 1, 2]).Call(x);
        Assert.Equal(new long[] { 2, 5, 3, 4 }, y.shape);
        Assert.Equal(x[1, 2, 3, 4].item<float>(), y[1, 4, 2, 3].item<float>());
    }

    [Theory]
    [InlineData(new[] { 0, 1 })]
    [InlineData(new[] { 1, 1 })]
    [InlineData(new[] { 1, 3 })]
    public void Constructor_NotAPermutationOfOneToN_Throws(int[] dims)
    {
        var e = Assert.Throws<ArgumentException>(() => new Permute(dims));
        Assert.Contains("permutation of 1..", e.Message);
    }
}
