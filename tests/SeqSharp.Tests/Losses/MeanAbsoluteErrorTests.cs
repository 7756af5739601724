using SeqSharp.Losses;
using SeqSharp.Tests.TestSupport;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Losses;

public class MeanAbsoluteErrorTests
{
    private static readonly double[] Yt = [0.0, 1.0, 2.0, -1.0, 0.5, 3.0, 4.0, -2.0];
    private static readonly double[] Yp = [0.5, 1.25, 1.0, 1.0, -0.5, 2.5, 4.0, 0.0];

    [Fact]
    public void Compute_ThreeDimensional_ReturnsAbsoluteErrorPerStep()
    {
        var values = new MeanAbsoluteError().Compute(T(Yt, 2, 4, 1), T(Yp, 2, 4, 1));
        Assert.Equal([2L, 4L], values.shape);
        Close(Yt.Zip(Yp, (t, p) => Math.Abs(t - p)).ToArray(), values);
    }

    [Fact]
    public void Call_SumWithSampleWeights_MatchesHandSum()
    {
        double[] w = [2.0, 0.5];
        var value = new MeanAbsoluteError(reduction: "sum").Call(T(Yt, 2, 4), T(Yp, 2, 4), T(w, 2));
        var perSample = RowMeans(Yt.Zip(Yp, (t, p) => Math.Abs(t - p)).ToArray(), 4);
        Assert.Equal(w[0] * perSample[0] + w[1] * perSample[1], value.item<double>(), 12);
    }

    [Fact]
    public void Call_SameDataAsNativeL1Loss_MatchesValueAndGradient()
    {
        manual_seed(2);
        var yTrue = randn(3, 7, 1, dtype: ScalarType.Float64);
        var yPred = randn(3, 7, 1, dtype: ScalarType.Float64);
        var loss = new MeanAbsoluteError();
        Assert.Equal(nn.functional.l1_loss(yPred, yTrue).item<double>(), loss.Call(yTrue, yPred).item<double>(), 12);
        TensorAssert.Close(
            Gradient(p => nn.functional.l1_loss(p, yTrue), yPred),
            Gradient(p => loss.Call(yTrue, p), yPred), atol: 1e-12);
    }
}
