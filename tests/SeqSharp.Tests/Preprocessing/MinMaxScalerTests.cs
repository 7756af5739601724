using SeqSharp.Preprocessing;

namespace SeqSharp.Tests.Preprocessing;

public class MinMaxScalerTests
{
    // scikit-learn's documentation example for MinMaxScaler.
    private static readonly double[,] Data = { { -1, 2 }, { -0.5, 6 }, { 0, 10 }, { 1, 18 } };

    private static void Near(double[,] expected, double[,] actual)
    {
        Assert.Equal(expected.GetLength(0), actual.GetLength(0));
        Assert.Equal(expected.GetLength(1), actual.GetLength(1));
        for (int i = 0; i < expected.GetLength(0); i++)
            for (int j = 0; j < expected.GetLength(1); j++)
                Assert.Equal(expected[i, j], actual[i, j], 12);
    }

    [Fact]
    public void FitTransform_ScikitLearnExample()
    {
        var scaler = new MinMaxScaler();
        Near(new double[,] { { 0, 0 }, { 0.25, 0.25 }, { 0.5, 0.5 }, { 1, 1 } }, scaler.FitTransform(Data));
        Assert.Equal(new double[] { -1, 2 }, scaler.DataMin);
        Assert.Equal(new double[] { 1, 18 }, scaler.DataMax);
        Assert.Equal(new double[] { 2, 16 }, scaler.DataRange);
        Assert.Equal(new double[] { 0.5, 0.0625 }, scaler.Scale);
        Assert.Equal(new double[] { 0.5, -0.125 }, scaler.Min);
        Near(new double[,] { { 1.5, 0 } }, scaler.Transform(new double[,] { { 2, 2 } }));   // no clipping
    }

    [Fact]
    public void FeatureRange_MapsMinAndMaxToItsEnds()
    {
        var scaler = new MinMaxScaler(featureRange: (-1, 1));
        Near(new double[,] { { -1, -1 }, { -0.5, -0.5 }, { 0, 0 }, { 1, 1 } }, scaler.FitTransform(Data));
    }

    [Fact]
    public void ConstantFeature_GetsRangeOne()
    {
        var scaler = new MinMaxScaler(featureRange: (2, 3));
        Assert.Equal(new double[] { 2, 2, 4 }, scaler.FitTransform([5.0, 5.0]).Concat(scaler.Transform([7.0])));
    }

    [Fact]
    public void RoundTrip_ArraysAndTensors()
    {
        var scaler = new MinMaxScaler();
        Near(Data, scaler.InverseTransform(scaler.FitTransform(Data)));
        var x = tensor(new double[] { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8 }).reshape(2, 3, 2);   // (samples, steps, features)
        var scaled = scaler.FitTransform(x);
        Assert.Equal(ScalarType.Float64, scaled.dtype);
        Assert.Equal(0.0, scaled[.., .., 0].min().item<double>(), 12);
        Assert.Equal(1.0, scaled[.., .., 1].max().item<double>(), 12);
        Assert.Equal(new double[] { 2, 1 }, scaler.DataMin);     // per feature over samples and steps: (3, 4, 5, 2, 5, 5), (1, 1, 9, 6, 3, 8)
        Assert.Equal(new double[] { 5, 9 }, scaler.DataMax);
        Assert.True(scaler.InverseTransform(scaled).allclose(x));
        var asFloat = scaler.Transform(x.to_type(ScalarType.Float32));
        Assert.Equal(ScalarType.Float32, asFloat.dtype);
        Assert.Equal(1 / 3f, asFloat[0, 0, 0].item<float>(), 6);    // (3 - 2) / 3
    }

    [Fact]
    public void NaN_IgnoredByFitAndKeptByTransform()
    {
        var scaler = new MinMaxScaler();
        var scaled = scaler.FitTransform([1.0, double.NaN, 3.0]);
        Assert.Equal(1.0, scaler.DataMin![0]);
        Assert.Equal(new[] { 0.0, double.NaN, 1.0 }, scaled);
    }

    [Fact]
    public void Errors_NotFittedWrongFeaturesBadRange()
    {
        var scaler = new MinMaxScaler();
        Assert.Contains("not fitted", Assert.Throws<InvalidOperationException>(() => scaler.Transform(Data)).Message);
        Assert.Throws<InvalidOperationException>(() => scaler.InverseTransform(ones(3, 2)));
        scaler.Fit(Data);
        Assert.Contains("X has 3 features, but MinMaxScaler is expecting 2 features", Assert.Throws<ArgumentException>(() => scaler.Transform(ones(4, 3))).Message);
        Assert.Throws<ArgumentException>(() => scaler.Transform([1.0, 2.0]));
        Assert.Contains("(1, 0)", Assert.Throws<ArgumentException>(() => new MinMaxScaler(featureRange: (1, 0))).Message);
        Assert.Contains("0 sample(s)", Assert.Throws<ArgumentException>(() => scaler.Fit(new double[0, 2])).Message);
        Assert.Equal(2, scaler.FeatureCount);   // the failed Fit left the scaler as it was
    }
}
