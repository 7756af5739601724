using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using Dropout = SeqSharp.Layers.Dropout;

namespace SeqSharp.Tests.Layers.Wrappers;

public class TimeDistributedTests
{
    [Fact]
    public void Call_Dense_SameWeightsAtEveryStep()
    {
        manual_seed(1);
        var dense = new Dense(3);
        var layer = new TimeDistributed(dense);
        var x = randn(2, 4, 5);
        var y = layer.Call(x);
        for (int t = 0; t < 4; t++)
            TensorAssert.Close(dense.Call(x[.., t]), y[.., t], atol: 1e-6, what: $"step {t}");
    }

    [Fact]
    public void Call_Conv1DOnSequencesOfSequences_EachStepConvolvedAlone()
    {
        manual_seed(2);
        var conv = new Conv1D(2, 3);
        var layer = new TimeDistributed(conv);
        var x = randn(2, 3, 6, 4);
        var y = LayerHarness.Run(layer, x, [2, 3, 4, 2], trainableWeights: 2, parameters: 3 * 4 * 2 + 2);
        var check = new Conv1D(2, 3);
        check.Build([6, 4]);
        check.SetWeights(layer.GetWeights());
        for (int t = 0; t < 3; t++)
            TensorAssert.Close(check.Call(x[.., t]), layer.Call(x)[.., t], atol: 1e-6, what: $"step {t}");
        Assert.Equal(4, y.dim());
    }

    [Fact]
    public void TrainingMode_ReachesTheWrappedLayer()
    {
        var layer = new TimeDistributed(new Dropout(0.5));
        var x = ones(4, 5, 6);
        TensorAssert.Close(x, layer.Call(x), atol: 0, what: "eval");
        layer.train();
        Assert.True(layer.Call(x).eq(0).any().item<bool>());
    }

    [Fact]
    public void CallWithMask_PassesMaskOnAndFreezingFreezesTheWrappedLayer()
    {
        var dense = new Dense(2);
        var layer = new TimeDistributed(dense);
        var mask = tensor(new[,] { { true, false } });
        Assert.Same(mask, layer.CallWithMask(zeros(1, 2, 3), mask).Mask);
        layer.Trainable = false;
        Assert.False(dense.Trainable);
        Assert.Empty(layer.TrainableWeights);
    }

    [Fact]
    public void Call_Rank2Input_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new TimeDistributed(new Dense(2), name: "td").Call(zeros(3, 4)));
        Assert.Contains("'td'", e.Message);
        Assert.Contains("rank >= 3", e.Message);
    }
}
