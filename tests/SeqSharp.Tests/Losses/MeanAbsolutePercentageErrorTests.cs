using SeqSharp.Losses;
using SeqSharp.Tests.TestSupport;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Losses;

public class MeanAbsolutePercentageErrorTests
{
    [Fact]
    public void Compute_IncludingZeroTarget_DividesByMaxOfAbsTargetAndEpsilon()
    {
        double[] yt = [2.0, -4.0, 0.0, 1.0, 10.0, -0.5];
        double[] yp = [1.0, -5.0, 0.001, 1.0, 12.0, 0.5];
        var values = new MeanAbsolutePercentageError().Compute(T(yt, 3, 2), T(yp, 3, 2));
        var ratios = yt.Zip(yp, (t, p) => 100 * Math.Abs(t - p) / Math.Max(Math.Abs(t), 1e-7)).ToArray();
        Close(RowMeans(ratios, 2), values);
        Assert.Equal(RowMeans(ratios, 2).Average(), new MeanAbsolutePercentageError().Call(T(yt, 3, 2), T(yp, 3, 2)).item<double>(), 9);
    }

    [Fact]
    public void Call_Float64_GradientMatchesFiniteDifferences()
    {
        manual_seed(3);
        var yTrue = randn(3, 4, 1, dtype: ScalarType.Float64) + 0.1;
        var yPred = randn(3, 4, 1, dtype: ScalarType.Float64);
        var loss = new MeanAbsolutePercentageError();
        TensorAssert.Close(NumericGradient(p => loss.Call(yTrue, p), yPred), Gradient(p => loss.Call(yTrue, p), yPred), atol: 1e-6, rtol: 1e-6);
    }
}
