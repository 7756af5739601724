using SeqSharp.Losses;
using SeqSharp.Tests.TestSupport;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Losses;

public class HuberTests
{
    private static readonly double[] Yt = [0.0, 1.0, 2.0, -1.0, 0.5, 3.0, 0.0, 0.0];
    private static readonly double[] Yp = [0.3, 2.5, 1.0, 1.0, -0.5, 2.9, 0.5, -0.75];

    private static double HuberOf(double error, double delta) =>
        Math.Abs(error) <= delta ? 0.5 * error * error : delta * Math.Abs(error) - 0.5 * delta * delta;

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    [InlineData(2.0)]
    public void Compute_ErrorsBothSidesOfDelta_MatchHandFormula(double delta)
    {
        var values = new Huber(delta).Compute(T(Yt, 2, 4, 1), T(Yp, 2, 4, 1));
        Close(Yt.Zip(Yp, (t, p) => HuberOf(p - t, delta)).ToArray(), values);
        var perSample = new Huber(delta).Compute(T(Yt, 2, 4), T(Yp, 2, 4));
        Close(RowMeans(Yt.Zip(Yp, (t, p) => HuberOf(p - t, delta)).ToArray(), 4), perSample);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.3)]
    public void Call_SameDataAsNativeHuberLoss_MatchesValueAndGradient(double delta)
    {
        manual_seed(5);
        var yTrue = randn(4, 6, 1, dtype: ScalarType.Float64);
        var yPred = randn(4, 6, 1, dtype: ScalarType.Float64);
        var loss = new Huber(delta);
        Assert.Equal(nn.functional.huber_loss(yPred, yTrue, delta).item<double>(), loss.Call(yTrue, yPred).item<double>(), 12);
        TensorAssert.Close(
            Gradient(p => nn.functional.huber_loss(p, yTrue, delta), yPred),
            Gradient(p => loss.Call(yTrue, p), yPred), atol: 1e-12);
    }

    [Fact]
    public void Ctor_NonPositiveDelta_Throws()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Huber(0));
        Assert.Contains("delta=0", ex.Message);
    }
}
