using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Reshaping;

public class ReshapeTests
{
    [Fact]
    public void Call_WithMinusOne_InfersTheMissingSize()
    {
        var x = arange(24, dtype: ScalarType.Float32).reshape(2, 12);
        var y = LayerHarness.Run(new Reshape([-1, 2, 2]), x, [2, 3, 2, 2]);
        Assert.Equal(17f, y[1, 1, 0, 1].item<float>());   // element 12 + 1·4 + 0·2 + 1
    }

    [Fact]
    public void Build_IncompatibleSizes_ThrowsWithBothShapes()
    {
        var layer = new Reshape([5, -1], name: "rs");
        var e = Assert.Throws<ArgumentException>(() => layer.Build([12]));
        Assert.Contains("'rs'", e.Message);
        Assert.Contains("[12]", e.Message);
        Assert.Contains("[5, -1]", e.Message);
        Assert.False(layer.Built);
    }

    [Theory]
    [InlineData(new long[] { -1, -1 })]
    [InlineData(new long[] { 0, 3 })]
    [InlineData(new long[] { })]
    public void Constructor_InvalidTarget_Throws(long[] target)
    {
        var e = Assert.Throws<ArgumentException>(() => new Reshape(target));
        Assert.Contains("targetShape=", e.Message);
    }
}
