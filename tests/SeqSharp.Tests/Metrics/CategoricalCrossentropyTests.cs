using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class CategoricalCrossentropyTests
{
    [Fact]
    public void Result_UnevenBatchesWithWeights_WeightedMeanOverAllSamples()
    {
        var classes = Feed.Numbers(10, seed: 41, 0, 3).Select(v => (int)v).ToArray();
        var logits = Feed.Numbers(30, seed: 42, -3, 3);
        var w = Feed.Numbers(10, seed: 43, 0, 1);
        var oneHot = classes.SelectMany(c => Enumerable.Range(0, 3).Select(k => k == c ? 1.0 : 0.0)).ToArray();
        var metric = new CategoricalCrossentropy(fromLogits: true);
        Feed.InBatches(metric, T(oneHot, 10, 3), T(logits, 10, 3), T(w, 10));
        var perSample = classes.Select((c, i) =>
        {
            var row = logits.Skip(3 * i).Take(3).ToArray();
            return Math.Log(row.Sum(Math.Exp)) - row[c];
        }).ToArray();
        Assert.Equal(perSample.Zip(w, (v, x) => v * x).Sum() / w.Sum(), metric.Result(), 12);
    }
}
