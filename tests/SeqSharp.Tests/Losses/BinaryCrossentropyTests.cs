using SeqSharp.Losses;
using SeqSharp.Tests.TestSupport;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Losses;

public class BinaryCrossentropyTests
{
    private static readonly double[] Labels = [1, 0, 1, 0, 1, 0];
    private static readonly double[] Probabilities = [0.9, 0.2, 0.0, 1.0, 0.6, 0.4];
    private static readonly double[] Logits = [2.0, -1.5, -30.0, 25.0, 0.3, 0.0];

    private static double FromProbability(double y, double p) => -(y * Math.Log(Clip(p)) + (1 - y) * Math.Log(1 - Clip(p)));

    // log(1 + e^x) - y·x, the crossentropy of sigmoid(x).
    private static double FromLogit(double y, double x) => Softplus(x) - y * x;

    [Fact]
    public void Compute_Probabilities_ClipsToEpsilonAndAveragesLastAxis()
    {
        var values = new BinaryCrossentropy().Compute(T(Labels, 2, 3), T(Probabilities, 2, 3));
        Close(RowMeans(Labels.Zip(Probabilities, FromProbability).ToArray(), 3), values);
    }

    [Fact]
    public void Compute_ThreeDimensionalWithTrailingOne_ReturnsPerStepValues()
    {
        var values = new BinaryCrossentropy().Compute(T(Labels, 2, 3, 1), T(Probabilities, 2, 3, 1));
        Assert.Equal([2L, 3L], values.shape);
        Close(Labels.Zip(Probabilities, FromProbability).ToArray(), values);
    }

    [Fact]
    public void Compute_FromLogits_IsStableForLargeLogits()
    {
        var values = new BinaryCrossentropy(fromLogits: true).Compute(T(Labels, 2, 3, 1), T(Logits, 2, 3, 1));
        Close(Labels.Zip(Logits, FromLogit).ToArray(), values);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Compute_LabelSmoothing_SqueezesLabelsTowardHalf(bool fromLogits)
    {
        const double s = 0.2;
        var smoothed = Labels.Select(y => y * (1 - s) + 0.5 * s).ToArray();
        var preds = fromLogits ? Logits : Probabilities;
        Func<double, double, double> f = fromLogits ? FromLogit : FromProbability;
        var expected = smoothed.Zip(preds, f).ToArray();
        var values = new BinaryCrossentropy(fromLogits, labelSmoothing: s).Compute(T(Labels, 6, 1), T(preds, 6, 1));
        Close(expected, values, 1e-11);
    }

    [Fact]
    public void Call_KerasDocumentationExample_GivesDocumentedValues()
    {
        // keras.losses.BinaryCrossentropy docstring: 0.8654, 0.243 with weights, 1.730 summed, [0.235, 1.496] unreduced.
        var yTrue = T([0, 1, 0, 0], 2, 2);
        var yPred = T([-18.6, 0.51, 2.94, -12.8], 2, 2);
        Near(0.8654, new BinaryCrossentropy(fromLogits: true).Call(yTrue, yPred).item<double>());
        Near(0.243, new BinaryCrossentropy(fromLogits: true).Call(yTrue, yPred, T([0.8, 0.2], 2)).item<double>());
        Near(1.730, new BinaryCrossentropy(fromLogits: true, reduction: "sum").Call(yTrue, yPred).item<double>());
        Close([0.235, 1.496], new BinaryCrossentropy(fromLogits: true, reduction: "none").Call(yTrue, yPred), 2e-3);
    }

    [Fact]
    public void Call_ProbabilitiesSameAsNativeBce_MatchesValueAndGradient()
    {
        manual_seed(7);
        var yTrue = randint(0, 2, [4, 5, 1]).to_type(ScalarType.Float64);
        var yPred = rand(4, 5, 1, dtype: ScalarType.Float64) * 0.98 + 0.01;
        var loss = new BinaryCrossentropy();
        Assert.Equal(nn.functional.binary_cross_entropy(yPred, yTrue).item<double>(), loss.Call(yTrue, yPred).item<double>(), 12);
        TensorAssert.Close(
            Gradient(p => nn.functional.binary_cross_entropy(p, yTrue), yPred),
            Gradient(p => loss.Call(yTrue, p), yPred), atol: 1e-12);
    }

    [Fact]
    public void Call_LogitsSameAsNativeBceWithLogits_MatchesValueAndGradient()
    {
        manual_seed(8);
        var yTrue = randint(0, 2, [4, 5, 1]).to_type(ScalarType.Float64);
        var yPred = randn(4, 5, 1, dtype: ScalarType.Float64) * 3;
        var smoothed = yTrue * 0.9 + 0.05;
        var loss = new BinaryCrossentropy(fromLogits: true, labelSmoothing: 0.1);
        Assert.Equal(nn.functional.binary_cross_entropy_with_logits(yPred, smoothed).item<double>(), loss.Call(yTrue, yPred).item<double>(), 12);
        TensorAssert.Close(
            Gradient(p => nn.functional.binary_cross_entropy_with_logits(p, smoothed), yPred),
            Gradient(p => loss.Call(yTrue, p), yPred), atol: 1e-12);
    }

    [Fact]
    public void Ctor_LabelSmoothingOutsideUnitInterval_Throws()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new BinaryCrossentropy(labelSmoothing: 1.5));
        Assert.Contains("labelSmoothing=1.5", ex.Message);
    }

    [Fact]
    public void Call_DifferentShapes_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => new BinaryCrossentropy().Call(zeros(4, 2), zeros(4, 3)));
        Assert.Contains("[4, 2]", ex.Message);
        Assert.Contains("[4, 3]", ex.Message);
    }
}
