using SeqSharp.Metrics;

namespace SeqSharp.Tests.Metrics;

/// <summary>Feeds a metric in uneven batches, as the last partial batch of an epoch does.</summary>
internal static class Feed
{
    /// <summary>Ten samples in batches of 4, 3, 2 and 1.</summary>
    public static readonly int[] Uneven = [4, 3, 2, 1];

    public static void InBatches(Metric metric, Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null, int[]? sizes = null)
    {
        long start = 0;
        foreach (int size in sizes ?? Uneven)
        {
            metric.UpdateState(yTrue.narrow(0, start, size), yPred.narrow(0, start, size), sampleWeight?.narrow(0, start, size));
            start += size;
        }
        Assert.Equal(yTrue.shape[0], start);
    }

    /// <summary>Deterministic numbers in [low, high).</summary>
    public static double[] Numbers(int count, int seed, double low = -1, double high = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => low + (high - low) * random.NextDouble()).ToArray();
    }

    /// <summary>The mean of each batch's own mean, which an epoch-exact metric must not report.</summary>
    public static double MeanOfBatchMeans(double[] perSample, int[]? sizes = null)
    {
        var means = new List<double>();
        int start = 0;
        foreach (int size in sizes ?? Uneven)
        {
            means.Add(perSample.Skip(start).Take(size).Average());
            start += size;
        }
        return means.Average();
    }
}
