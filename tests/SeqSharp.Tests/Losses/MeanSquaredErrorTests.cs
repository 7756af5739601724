using SeqSharp.Losses;
using SeqSharp.Tests.TestSupport;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Losses;

public class MeanSquaredErrorTests
{
    private static readonly double[] Yt = [0.0, 1.0, 2.0, -1.0, 0.5, 3.0];
    private static readonly double[] Yp = [0.5, 1.0, 1.0, 1.0, -0.5, 2.5];

    [Fact]
    public void Compute_TwoDimensional_AveragesSquaresOverLastAxis()
    {
        var values = new MeanSquaredError().Compute(T(Yt, 2, 3), T(Yp, 2, 3));
        Close(RowMeans(Yt.Zip(Yp, (t, p) => (t - p) * (t - p)).ToArray(), 3), values);
    }

    [Fact]
    public void Compute_TargetsWithoutTrailingAxis_SqueezesPredictionsAsKerasDoes()
    {
        // y_true (batch, timesteps), y_pred (batch, timesteps, 1): Keras squeezes y_pred, then averages over timesteps.
        var values = new MeanSquaredError().Compute(T(Yt, 2, 3), T(Yp, 2, 3, 1));
        Assert.Equal([2L], values.shape);
        Close(RowMeans(Yt.Zip(Yp, (t, p) => (t - p) * (t - p)).ToArray(), 3), values);
    }

    [Fact]
    public void Compute_RankOneTargetsAgainstColumn_ExpandsTargets()
    {
        var values = new MeanSquaredError().Compute(T(Yt, 6), T(Yp, 6, 1));
        Assert.Equal([6L], values.shape);
        Close(Yt.Zip(Yp, (t, p) => (t - p) * (t - p)).ToArray(), values);
    }

    [Fact]
    public void Call_SameDataAsNativeMseLoss_MatchesValueAndGradient()
    {
        manual_seed(1);
        var yTrue = randn(4, 5, 1, dtype: ScalarType.Float64);
        var yPred = randn(4, 5, 1, dtype: ScalarType.Float64);
        var loss = new MeanSquaredError();
        Assert.Equal(nn.functional.mse_loss(yPred, yTrue).item<double>(), loss.Call(yTrue, yPred).item<double>(), 12);
        TensorAssert.Close(
            Gradient(p => nn.functional.mse_loss(p, yTrue), yPred),
            Gradient(p => loss.Call(yTrue, p), yPred), atol: 1e-12);
    }
}
