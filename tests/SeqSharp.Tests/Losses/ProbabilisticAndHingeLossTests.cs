using SeqSharp.Losses;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Losses;

/// <summary>
/// KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge and CosineSimilarity against Keras 3's
/// formulas (keras/src/losses/losses.py) computed by hand in doubles.
/// </summary>
public class ProbabilisticAndHingeLossTests
{
    [Fact]
    public void KLDivergence_MatchesSumOfTrueTimesLogRatioWithClipping()
    {
        double[] yt = [0.2, 0.8, 0.0, 1.0, 0.5, 0.5];
        double[] yp = [0.4, 0.6, 0.3, 0.7, 0.0, 1.2];
        static double C(double v) => Math.Clamp(v, 1e-7, 1);
        double[] expected = Enumerable.Range(0, 3).Select(r => Enumerable.Range(0, 2).Sum(j =>
        {
            double t = C(yt[2 * r + j]), p = C(yp[2 * r + j]);
            return t * Math.Log(t / p);
        })).ToArray();
        Close(expected, new KLDivergence().Compute(T(yt, 3, 2), T(yp, 3, 2)));
        Assert.Equal(expected.Average(), new KLDivergence().Call(T(yt, 3, 2), T(yp, 3, 2)).item<double>(), 12);
    }

    [Fact]
    public void Poisson_MatchesMeanOfPredMinusTrueLogPred()
    {
        double[] yt = [0, 1, 2, 3, 0, 5];
        double[] yp = [0.5, 1.5, 2.0, 0.1, 1e-3, 4.0];
        double[] expected = RowMeans(yt.Zip(yp, (t, p) => p - t * Math.Log(p + 1e-7)).ToArray(), 3);
        Close(expected, new Poisson().Compute(T(yt, 2, 3), T(yp, 2, 3)));
    }

    [Fact]
    public void Hinge_ZeroOneLabels_AreConvertedToMinusOneOne()
    {
        double[] yt = [0, 1, 1, 0];
        double[] yp = [0.3, 0.4, -2.0, -1.5];
        double[] expected = RowMeans(yt.Zip(yp, (t, p) => Math.Max(1 - (2 * t - 1) * p, 0)).ToArray(), 2);
        Close(expected, new Hinge().Compute(T(yt, 2, 2), T(yp, 2, 2)));
        double[] squared = RowMeans(yt.Zip(yp, (t, p) => Math.Pow(Math.Max(1 - (2 * t - 1) * p, 0), 2)).ToArray(), 2);
        Close(squared, new SquaredHinge().Compute(T(yt, 2, 2), T(yp, 2, 2)));
    }

    [Fact]
    public void Hinge_MinusOneOneLabels_AreUsedAsGiven()
    {
        double[] yt = [-1, 1, 1, -1];
        double[] yp = [0.3, 0.4, -2.0, -1.5];
        double[] expected = RowMeans(yt.Zip(yp, (t, p) => Math.Max(1 - t * p, 0)).ToArray(), 2);
        Close(expected, new Hinge().Compute(T(yt, 2, 2), T(yp, 2, 2)));
    }

    [Fact]
    public void CategoricalHinge_MatchesNegMinusPosPlusOne()
    {
        // Row 0: pos = 0.2, neg = max(0.5, 0.3) = 0.5 -> 1.3. Row 1: pos = 2.0, neg = 0.1 -> max(-0.9, 0) = 0.
        double[] yt = [0, 1, 0, 1, 0, 0];
        double[] yp = [0.5, 0.2, 0.3, 2.0, 0.1, -1.0];
        Close([1.3, 0.0], new CategoricalHinge().Compute(T(yt, 2, 3), T(yp, 2, 3)));
    }

    [Fact]
    public void CosineSimilarity_IsMinusCosineAndZeroForZeroVectors()
    {
        // Row 0: (1, 0) vs (1, 1): -1/√2. Row 1: (3, 4) vs (-3, -4): 1. Row 2: zero vector: 0.
        double[] yt = [1, 0, 3, 4, 0, 0];
        double[] yp = [1, 1, -3, -4, 2, 5];
        Close([-1 / Math.Sqrt(2), 1.0, 0.0], new CosineSimilarity().Compute(T(yt, 3, 2), T(yp, 3, 2)));
        // axis 0: columns (1, 3, 0) vs (1, -3, 2) and (0, 4, 0) vs (1, -4, 5).
        double c0 = -(1 * 1 + 3 * -3 + 0 * 2) / (Math.Sqrt(10) * Math.Sqrt(14));
        double c1 = -(0 * 1 + 4 * -4 + 0 * 5) / (4 * Math.Sqrt(42));
        Close([c0, c1], new CosineSimilarity(axis: 0).Compute(T(yt, 3, 2), T(yp, 3, 2)));
    }

    [Fact]
    public void CosineSimilarity_GradientMatchesFiniteDifferences()
    {
        double[] yt = [1, 2, -1, 0.5, 0.3, 2];
        double[] yp = [0.4, -1, 2, 1, 1, -0.2];
        var loss = new CosineSimilarity();
        var gradient = Gradient(p => loss.Call(T(yt, 2, 3), p), T(yp, 2, 3));
        const double h = 1e-6;
        var numeric = new double[yp.Length];
        for (int i = 0; i < yp.Length; i++)
        {
            var up = (double[])yp.Clone();
            var down = (double[])yp.Clone();
            up[i] += h;
            down[i] -= h;
            numeric[i] = (loss.Call(T(yt, 2, 3), T(up, 2, 3)).item<double>() - loss.Call(T(yt, 2, 3), T(down, 2, 3)).item<double>()) / (2 * h);
        }
        Close(numeric, gradient, 1e-8);
    }

    [Theory]
    [InlineData("kl_divergence", typeof(KLDivergence))]
    [InlineData("kld", typeof(KLDivergence))]
    [InlineData("KLD", typeof(KLDivergence))]
    [InlineData("KLDivergence", typeof(KLDivergence))]
    [InlineData("poisson", typeof(Poisson))]
    [InlineData("hinge", typeof(Hinge))]
    [InlineData("squared_hinge", typeof(SquaredHinge))]
    [InlineData("categorical_hinge", typeof(CategoricalHinge))]
    [InlineData("cosine_similarity", typeof(CosineSimilarity))]
    [InlineData("CosineSimilarity", typeof(CosineSimilarity))]
    public void Get_KerasNamesAndAliases_ReturnTheLoss(string name, Type type)
    {
        Assert.IsType(type, Loss.Get(name));
    }

    [Fact]
    public void DefaultNames_AreKerasNames()
    {
        Assert.Equal("kl_divergence", new KLDivergence().Name);
        Assert.Equal("poisson", new Poisson().Name);
        Assert.Equal("hinge", new Hinge().Name);
        Assert.Equal("squared_hinge", new SquaredHinge().Name);
        Assert.Equal("categorical_hinge", new CategoricalHinge().Name);
        Assert.Equal("cosine_similarity", new CosineSimilarity().Name);
        Assert.Equal(-1, (int)new CosineSimilarity().GetConfig()["axis"]!);
    }
}
