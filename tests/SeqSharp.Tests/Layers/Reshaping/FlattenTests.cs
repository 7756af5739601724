using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Reshaping;

public class FlattenTests
{
    [Fact]
    public void Call_Rank4_RowMajorVectorPerSample()
    {
        var x = arange(24, dtype: ScalarType.Float32).reshape(2, 3, 2, 2);
        var y = LayerHarness.Run(new Flatten(), x, [2, 12]);
        Assert.Equal(Enumerable.Range(12, 12).Select(v => (float)v).ToArray(), y[1].data<float>().ToArray());
    }

    [Fact]
    public void Call_Rank1_BecomesColumn()
    {
        Assert.Equal(new long[] { 5, 1 }, new Flatten().Call(zeros(5)).shape);
    }

    [Fact]
    public void FromConfig_ChannelsFirst_NotSupported()
    {
        var config = new Flatten().GetConfig();
        config["data_format"] = "channels_first";
        var e = Assert.Throws<NotSupportedException>(() => Layer.FromConfig("Flatten", config));
        Assert.Contains("channels_first", e.Message);
    }
}
