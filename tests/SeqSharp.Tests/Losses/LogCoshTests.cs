using SeqSharp.Losses;
using SeqSharp.Tests.TestSupport;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Losses;

public class LogCoshTests
{
    [Fact]
    public void Compute_SmallAndLargeErrors_MatchLogOfCosh()
    {
        double[] yt = [0.0, 1.0, 2.0, -1.0, 0.5, 3.0];
        double[] yp = [0.3, 31.0, 1.0, 1.0, -40.5, 2.9];
        var values = new LogCosh().Compute(T(yt, 3, 2), T(yp, 3, 2));
        Close(RowMeans(yt.Zip(yp, (t, p) => Math.Log(Math.Cosh(p - t))).ToArray(), 2), values, 1e-12);
    }

    [Fact]
    public void Call_GradientIsTanhOfErrorOverCount()
    {
        manual_seed(6);
        var yTrue = randn(3, 5, 1, dtype: ScalarType.Float64);
        var yPred = randn(3, 5, 1, dtype: ScalarType.Float64) * 5;
        var expected = Values(yPred).Zip(Values(yTrue), (p, t) => Math.Tanh(p - t) / 15).ToArray();
        // 1e-8, not 1e-12: softplus (as in Keras's torch backend) is linear above 20, so for
        // |error| > 10 the gradient is ±1 where tanh is ±(1 - 4e-9).
        Close(expected, Gradient(p => new LogCosh().Call(yTrue, p), yPred), 1e-8);
    }

    [Fact]
    public void Call_PerSampleWeights_WeightedMean()
    {
        double[] yt = [0.0, 1.0, 2.0, -1.0];
        double[] yp = [1.0, 1.0, 0.0, 0.0];
        double[] w = [1.0, 3.0];
        var value = new LogCosh().Call(T(yt, 2, 2, 1), T(yp, 2, 2, 1), T(w, 2));
        double expected = yt.Zip(yp, (t, p) => Math.Log(Math.Cosh(p - t))).Select((v, i) => v * w[i / 2]).Sum() / 4;
        Assert.Equal(expected, value.item<double>(), 12);
    }
}
