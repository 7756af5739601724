using SeqSharp.Preprocessing;

namespace SeqSharp.Tests.Preprocessing;

public class StandardScalerTests
{
    [Fact]
    public void FitTransform_ScikitLearnExample()
    {
        var scaler = new StandardScaler();
        var scaled = scaler.FitTransform(new double[,] { { 0, 0 }, { 0, 0 }, { 1, 1 }, { 1, 1 } });
        Assert.Equal(new double[] { 0.5, 0.5 }, scaler.Mean);
        Assert.Equal(new double[] { 0.25, 0.25 }, scaler.Var);
        Assert.Equal(new double[] { 0.5, 0.5 }, scaler.Scale);
        Assert.Equal(new long[] { 4, 4 }, scaler.SamplesSeen);
        Assert.Equal(new double[,] { { -1, -1 }, { -1, -1 }, { 1, 1 }, { 1, 1 } }, scaled);
        Assert.Equal(new double[,] { { 3, 3 } }, scaler.Transform(new double[,] { { 2, 2 } }));
    }

    [Fact]
    public void PopulationStd_NotSampleStd()
    {
        var scaler = new StandardScaler();
        var scaled = scaler.FitTransform([1.0, 2, 3, 4]);      // mean 2.5, variance 5/4 (not 5/3)
        Assert.Equal(1.25, scaler.Var![0], 12);
        Assert.Equal(-1.5 / Math.Sqrt(1.25), scaled[0], 12);
        Assert.Equal(0.5 / Math.Sqrt(1.25), scaled[2], 12);
    }

    [Fact]
    public void ConstantFeature_IsOnlyCentred()
    {
        var scaler = new StandardScaler();
        var scaled = scaler.FitTransform(new double[,] { { 0.1, 1 }, { 0.1, 2 }, { 0.1, 3 } });
        Assert.Equal(1.0, scaler.Scale![0]);
        Assert.Equal(0.0, scaled[1, 0], 15);
        Assert.Equal(1.0, scaler.Transform(new double[,] { { 1.1, 2 } })[0, 0], 12);
    }

    [Fact]
    public void RoundTrip_ArraysAndTensors()
    {
        var data = new double[,] { { 3, -1 }, { 4, 1 }, { 5, 9 }, { 2, 6 } };
        var scaler = new StandardScaler();
        var back = scaler.InverseTransform(scaler.FitTransform(data));
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 2; j++)
                Assert.Equal(data[i, j], back[i, j], 12);
        var x = randn(5, 7, 3, dtype: ScalarType.Float64) * 4 + 2;
        var scaled = scaler.FitTransform(x);
        Assert.True(scaled.mean([0, 1]).allclose(zeros(3, dtype: ScalarType.Float64), atol: 1e-12));
        Assert.True(scaled.std([0, 1], unbiased: false).allclose(ones(3, dtype: ScalarType.Float64)));
        Assert.True(scaler.InverseTransform(scaled).allclose(x));
    }

    [Fact]
    public void Errors_NotFittedAndWrongFeatures()
    {
        var scaler = new StandardScaler();
        Assert.Contains("StandardScaler instance is not fitted", Assert.Throws<InvalidOperationException>(() => scaler.Transform([1.0])).Message);
        scaler.Fit(ones(4, 2));
        Assert.Contains("X has 1 features, but StandardScaler is expecting 2", Assert.Throws<ArgumentException>(() => scaler.InverseTransform(ones(4))).Message);
    }
}
