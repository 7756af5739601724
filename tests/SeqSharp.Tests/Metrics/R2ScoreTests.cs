using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

public class R2ScoreTests
{
    /// <summary>Textbook R² of one output with weights: 1 - Σw(y-ŷ)² / Σw(y-ȳ_w)², two passes.</summary>
    private static (double R2, double Variance) HandR2(double[] y, double[] p, double[]? w = null)
    {
        w ??= Enumerable.Repeat(1.0, y.Length).ToArray();
        double mean = y.Zip(w, (a, b) => a * b).Sum() / w.Sum();
        double total = y.Select((v, i) => w[i] * (v - mean) * (v - mean)).Sum();
        double residual = y.Select((v, i) => w[i] * (v - p[i]) * (v - p[i])).Sum();
        return (1 - residual / total, total);
    }

    private static double[] Column(double[] values, int columns, int j) => values.Where((_, i) => i % columns == j).ToArray();

    [Fact]
    public void Result_KerasDocumentationExample_GivesDocumentedValue()
    {
        var metric = new R2Score();
        metric.UpdateState(T([1, 4, 3], 3, 1), T([2, 4, 4], 3, 1));
        Near(0.57142854, metric.Result(), 1e-7);
    }

    [Fact]
    public void Result_UnevenBatches_EqualsR2OverAllSamples()
    {
        var y = Feed.Numbers(10, seed: 20, 0, 5);
        var p = y.Zip(Feed.Numbers(10, seed: 21), (a, b) => a + b).ToArray();
        var metric = new R2Score();
        Feed.InBatches(metric, T(y, 10, 1), T(p, 10, 1));
        Assert.Equal(HandR2(y, p).R2, metric.Result(), 12);
        double meanOfBatchScores = new[] { (0, 4), (4, 3), (7, 3) }
            .Select(b => HandR2(y.Skip(b.Item1).Take(b.Item2).ToArray(), p.Skip(b.Item1).Take(b.Item2).ToArray()).R2).Average();
        Assert.NotEqual(meanOfBatchScores, metric.Result(), 6);
    }

    [Theory]
    [InlineData("uniform_average")]
    [InlineData("variance_weighted_average")]
    public void Result_TwoOutputsWithWeights_AggregatesPerOutputScores(string aggregation)
    {
        var y = Feed.Numbers(20, seed: 22, -2, 4);
        var p = y.Zip(Feed.Numbers(20, seed: 23), (a, b) => 0.8 * a + b).ToArray();
        var w = Feed.Numbers(10, seed: 24, 0.1, 2);
        var metric = new R2Score(aggregation);
        Feed.InBatches(metric, T(y, 10, 2), T(p, 10, 2), T(w, 10));
        var scores = Enumerable.Range(0, 2).Select(j => HandR2(Column(y, 2, j), Column(p, 2, j), w)).ToArray();
        double expected = aggregation == "uniform_average"
            ? scores.Average(s => s.R2)
            : scores.Sum(s => s.R2 * s.Variance) / scores.Sum(s => s.Variance);
        Assert.Equal(expected, metric.Result(), 12);
    }

    [Fact]
    public void Result_SequencesOfTwoUnits_FlattensTimestepsIntoObservations()
    {
        var y = Feed.Numbers(60, seed: 25);
        var p = y.Zip(Feed.Numbers(60, seed: 26), (a, b) => a + 0.5 * b).ToArray();
        var metric = new R2Score();
        Feed.InBatches(metric, T(y, 10, 3, 2), T(p, 10, 3, 2));
        double expected = Enumerable.Range(0, 2).Average(j => HandR2(Column(y, 2, j), Column(p, 2, j)).R2);
        Assert.Equal(expected, metric.Result(), 12);
    }

    [Fact]
    public void Result_TargetsWithoutTrailingAxis_AreOneOutputOverAllSteps()
    {
        var y = Feed.Numbers(30, seed: 27);
        var p = y.Zip(Feed.Numbers(30, seed: 28), (a, b) => a + 0.5 * b).ToArray();
        var metric = new R2Score();
        Feed.InBatches(metric, T(y, 10, 3), T(p, 10, 3, 1));
        Assert.Equal(HandR2(y, p).R2, metric.Result(), 12);
    }

    [Fact]
    public void Result_NumRegressors_GivesAdjustedR2()
    {
        var y = Feed.Numbers(10, seed: 29, 0, 5);
        var p = y.Zip(Feed.Numbers(10, seed: 30), (a, b) => a + b).ToArray();
        var metric = new R2Score(numRegressors: 3);
        Feed.InBatches(metric, T(y, 10, 1), T(p, 10, 1));
        double r2 = HandR2(y, p).R2;
        Assert.Equal(1 - (1 - r2) * (10 - 1) / (10 - 3 - 1.0), metric.Result(), 12);
    }

    [Fact]
    public void Result_ConstantTargets_ZeroWithResidualNaNWithout()
    {
        var metric = new R2Score();
        metric.UpdateState(T([2, 2, 2], 3, 1), T([1, 2, 3], 3, 1));
        Assert.Equal(0.0, metric.Result());
        metric.ResetState();
        metric.UpdateState(T([2, 2, 2], 3, 1), T([2, 2, 2], 3, 1));
        Assert.True(double.IsNaN(metric.Result()));
    }

    [Fact]
    public void ResetState_ThenOtherOutputCount_StartsOver()
    {
        var metric = new R2Score();
        metric.UpdateState(T([1, 4, 3], 3, 1), T([2, 4, 4], 3, 1));
        var ex = Assert.Throws<ArgumentException>(() => metric.UpdateState(zeros(3, 2), zeros(3, 2)));
        Assert.Contains("1 outputs", ex.Message);
        metric.ResetState();
        Assert.Equal(0.0, metric.Result());
        metric.UpdateState(T([1, 0, 4, 1, 3, 2], 3, 2), T([2, 0, 4, 1, 4, 2], 3, 2));
        Assert.Equal((HandR2([1, 4, 3], [2, 4, 4]).R2 + HandR2([0, 1, 2], [0, 1, 2]).R2) / 2, metric.Result(), 12);
    }

    [Fact]
    public void UpdateState_RankOneOrMismatchedInputs_Throw()
    {
        var metric = new R2Score();
        var ex = Assert.Throws<ArgumentException>(() => metric.UpdateState(zeros(5), zeros(5)));
        Assert.Contains("(batch, outputs)", ex.Message);
        Assert.Throws<ArgumentException>(() => metric.UpdateState(zeros(5, 2), zeros(5, 3)));
    }

    [Fact]
    public void Ctor_InvalidArguments_Throw()
    {
        var ex = Assert.Throws<ArgumentException>(() => new R2Score("median"));
        Assert.Contains("\"median\"", ex.Message);
        Assert.Contains("uniform_average", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new R2Score(numRegressors: -1));
    }
}
