using SeqSharp.Losses;
using SeqSharp.Tests.TestSupport;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Losses;

public class CategoricalCrossentropyTests
{
    // Three samples, three classes; the predictions do not sum to one and include a zero for a true class.
    private static readonly double[] OneHot = [0, 1, 0, 0, 0, 1, 1, 0, 0];
    private static readonly double[] Probabilities = [0.1, 0.6, 0.1, 0.5, 0.5, 0.0, 0.2, 0.3, 0.5];
    private static readonly double[] Logits = [1.0, 2.0, -1.0, 0.5, 0.5, 3.0, -2.0, 0.0, 4.0];

    private static double[] Crossentropy(double[] y, double[] pred, bool fromLogits, int classes)
    {
        var result = new double[y.Length / classes];
        for (int r = 0; r < result.Length; r++)
        {
            var row = pred.Skip(r * classes).Take(classes).ToArray();
            double[] logP;
            if (fromLogits)
            {
                double max = row.Max();
                double lse = max + Math.Log(row.Sum(x => Math.Exp(x - max)));
                logP = row.Select(x => x - lse).ToArray();
            }
            else
            {
                double sum = row.Sum();
                logP = row.Select(p => Math.Log(Clip(p / sum))).ToArray();
            }
            result[r] = -Enumerable.Range(0, classes).Sum(c => y[r * classes + c] * logP[c]);
        }
        return result;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Compute_MatchesHandCrossentropy(bool fromLogits)
    {
        var preds = fromLogits ? Logits : Probabilities;
        var values = new CategoricalCrossentropy(fromLogits).Compute(T(OneHot, 3, 3), T(preds, 3, 3));
        Close(Crossentropy(OneHot, preds, fromLogits, 3), values);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Compute_LabelSmoothing_SpreadsOverClasses(bool fromLogits)
    {
        var preds = fromLogits ? Logits : Probabilities;
        var smoothed = OneHot.Select(y => y * 0.7 + 0.3 / 3).ToArray();
        var values = new CategoricalCrossentropy(fromLogits, labelSmoothing: 0.3).Compute(T(OneHot, 3, 3), T(preds, 3, 3));
        Close(Crossentropy(smoothed, preds, fromLogits, 3), values);
    }

    [Fact]
    public void Compute_Sequences_ReturnsOneValuePerStep()
    {
        // (batch 1, timesteps 3, classes 3)
        var values = new CategoricalCrossentropy().Compute(T(OneHot, 1, 3, 3), T(Probabilities, 1, 3, 3));
        Assert.Equal([1L, 3L], values.shape);
        Close(Crossentropy(OneHot, Probabilities, false, 3), values);
    }

    [Fact]
    public void Compute_ClassAxisOne_EqualsLastAxisOnPermutedData()
    {
        manual_seed(9);
        var logits = randn(2, 4, 3, dtype: ScalarType.Float64);
        var target = nn.functional.one_hot(randint(0, 4, [2, 3]), 4).to_type(ScalarType.Float64);   // (2, 3, 4)
        var onAxis1 = new CategoricalCrossentropy(fromLogits: true, labelSmoothing: 0.1, axis: 1).Compute(target.permute(0, 2, 1), logits);
        var onLast = new CategoricalCrossentropy(fromLogits: true, labelSmoothing: 0.1).Compute(target, logits.permute(0, 2, 1));
        TensorAssert.Close(onLast, onAxis1, atol: 1e-12);
    }

    [Fact]
    public void Call_KerasDocumentationExample_GivesDocumentedValues()
    {
        var yTrue = T([0, 1, 0, 0, 0, 1], 2, 3);
        var yPred = T([0.05, 0.95, 0, 0.1, 0.8, 0.1], 2, 3);
        Close([0.0513, 2.303], new CategoricalCrossentropy(reduction: "none").Call(yTrue, yPred), 1e-3);
        Near(1.177, new CategoricalCrossentropy().Call(yTrue, yPred).item<double>());
        Near(0.814, new CategoricalCrossentropy().Call(yTrue, yPred, T([0.3, 0.7], 2)).item<double>());
        Near(2.354, new CategoricalCrossentropy(reduction: "sum").Call(yTrue, yPred).item<double>());
    }

    [Fact]
    public void Call_LogitsSameAsNativeCrossEntropy_MatchesValueAndGradient()
    {
        manual_seed(10);
        var logits = randn(6, 5, dtype: ScalarType.Float64) * 2;
        var classes = randint(0, 5, [6]);
        var oneHot = nn.functional.one_hot(classes, 5).to_type(ScalarType.Float64);
        var loss = new CategoricalCrossentropy(fromLogits: true, labelSmoothing: 0.2);
        Tensor Native(Tensor p) => nn.functional.cross_entropy(p, classes, label_smoothing: 0.2);
        Assert.Equal(Native(logits).item<double>(), loss.Call(oneHot, logits).item<double>(), 12);
        TensorAssert.Close(Gradient(Native, logits), Gradient(p => loss.Call(oneHot, p), logits), atol: 1e-12);
    }

    [Fact]
    public void Call_ProbabilitiesFloat64_GradientMatchesFiniteDifferences()
    {
        manual_seed(11);
        var probabilities = nn.functional.softmax(randn(2, 3, 4, dtype: ScalarType.Float64), -1);
        var target = nn.functional.one_hot(randint(0, 4, [2, 3]), 4).to_type(ScalarType.Float64);
        var loss = new CategoricalCrossentropy(labelSmoothing: 0.1);
        TensorAssert.Close(NumericGradient(p => loss.Call(target, p), probabilities), Gradient(p => loss.Call(target, p), probabilities), atol: 1e-7);
    }

    [Fact]
    public void Call_IntegerLabels_ThrowsPointingToSparseLoss()
    {
        var ex = Assert.Throws<ArgumentException>(() => new CategoricalCrossentropy().Call(T([0, 2, 1], 3), T(Probabilities, 3, 3)));
        Assert.Contains("y_true.shape=[3]", ex.Message);
        Assert.Contains("y_pred.shape=[3, 3]", ex.Message);
        Assert.Contains("SparseCategoricalCrossentropy", ex.Message);
    }
}
