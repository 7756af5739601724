using SeqSharp.Losses;
using SeqSharp.Tests.TestSupport;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Losses;

public class MeanSquaredLogarithmicErrorTests
{
    [Fact]
    public void Compute_NegativeValues_AreClippedToEpsilonBeforeTheLog()
    {
        double[] yt = [0.0, 1.0, 3.0, 2.0, -1.0, 5.0];
        double[] yp = [0.5, -2.0, 2.0, 2.0, 1.0, 0.0];
        double L(double x) => Math.Log(Math.Max(x, 1e-7) + 1);
        var squares = yt.Zip(yp, (t, p) => Math.Pow(L(p) - L(t), 2)).ToArray();
        var values = new MeanSquaredLogarithmicError().Compute(T(yt, 2, 3, 1), T(yp, 2, 3, 1));
        Close(squares, values);
        Assert.Equal(squares.Average(), new MeanSquaredLogarithmicError().Call(T(yt, 2, 3, 1), T(yp, 2, 3, 1)).item<double>(), 12);
    }

    [Fact]
    public void Call_Float64_GradientMatchesFiniteDifferences()
    {
        manual_seed(4);
        var yTrue = rand(3, 4, 2, dtype: ScalarType.Float64) * 3;
        var yPred = rand(3, 4, 2, dtype: ScalarType.Float64) * 3;
        var loss = new MeanSquaredLogarithmicError();
        TensorAssert.Close(NumericGradient(p => loss.Call(yTrue, p), yPred), Gradient(p => loss.Call(yTrue, p), yPred), atol: 1e-8);
    }
}
