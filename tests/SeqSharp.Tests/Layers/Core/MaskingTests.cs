using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using GRU = SeqSharp.Layers.GRU;

namespace SeqSharp.Tests.Layers.Core;

public class MaskingTests
{
    [Fact]
    public void CallWithMask_StepsEqualToMaskValue_MaskedAndZeroed()
    {
        var x = tensor(new float[] { 1, 2, -1, -1, 0, -1, -1, -1 }, [2, 2, 2]);
        var (y, mask) = new Masking(maskValue: -1).CallWithMask(x, null);
        Assert.Equal(new[] { true, false, true, false }, mask!.data<bool>().ToArray());
        Assert.Equal(new float[] { 1, 2, 0, 0, 0, -1, 0, 0 }, y.data<float>().ToArray());
    }

    [Fact]
    public void Sequential_MaskingThenGru_SkipsPaddedStepsLikeShorterSequences()
    {
        manual_seed(3);
        var gru = new GRU(3);
        var model = new Sequential([new Masking(inputShape: [4, 2]), gru]);
        var x = randn(1, 4, 2);
        x[0, 1] = zeros(2);
        x[0, 3] = zeros(2);
        var y = model.Predict(x, verbose: 0);
        var (expected, _) = NativeModules.Gru(gru).call(x.index_select(1, tensor(new long[] { 0, 2 })));
        TensorAssert.Close(expected[0, -1], y[0], atol: 1e-6);
    }

    [Fact]
    public void LayerHarness_ShapeAndConfig()
    {
        LayerHarness.Run(new Masking(0.5), randn(2, 3, 4), [2, 3, 4]);
    }
}
