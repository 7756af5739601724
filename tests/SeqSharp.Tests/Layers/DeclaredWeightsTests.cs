using SeqSharp.Layers;

namespace SeqSharp.Tests.Layers;

/// <summary>Building a model with placeholder weights: the declared shapes and types, no memory, no names or random numbers taken.</summary>
public class DeclaredWeightsTests
{
    [Fact]
    public void Build_HugeLstm_WeightsHaveTheDeclaredShapesAndShareOneElement()
    {
        var layer = DeclaredWeights.Build(() =>
        {
            var lstm = new LSTM(100_000_000, usePeepholes: true);
            lstm.Build([5, 3]);
            return lstm;
        });
        using (layer)
        {
            Assert.Equal(
                [[3, 400_000_000], [100_000_000, 400_000_000], [400_000_000], [3, 100_000_000]],
                layer.Weights.Select(w => w.shape).ToArray());
            // Every element of a placeholder is the same memory: all strides are zero.
            Assert.All(layer.Weights, w => Assert.All(w.stride(), s => Assert.Equal(0, s)));
            Assert.All(layer.Weights, w => Assert.Equal(ScalarType.Float32, w.dtype));
        }
    }

    [Fact]
    public void Build_WeightWithMoreElementsThanATensorHolds_ArgumentException()
    {
        var e = Assert.Throws<ArgumentException>(() => DeclaredWeights.Build(() =>
        {
            var dense = new Dense(1_000_000_000);
            dense.Build([10_000_000_000L]);   // a kernel of 1e19 elements
            return dense;
        }));
        Assert.Contains("more elements than a tensor can", e.Message);
    }

    [Fact]
    public void Build_AutomaticNamesDrawnInside_AreNotTakenFromLaterModels()
    {
        var inside = DeclaredWeights.Build(() => LayerNames.Next("DeclaredWeightsProbe"));
        var after = LayerNames.Next("DeclaredWeightsProbe");
        Assert.Equal(inside, after);
    }

    [Fact]
    public void CreateWeight_OutsideBuild_AllocatesRealValues()
    {
        using var dense = new Dense(3);
        dense.Build([2]);
        Assert.Equal([3, 1], dense.Weights[0].stride());   // a real (2, 3) kernel
    }
}
