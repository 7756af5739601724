using SeqSharp.Losses;
using SeqSharp.Tests.TestSupport;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Losses;

public class SparseCategoricalCrossentropyTests
{
    private static readonly double[] Probabilities = [0.1, 0.6, 0.1, 0.5, 0.5, 0.0, 0.2, 0.3, 0.5];
    private static readonly double[] Labels = [1, 2, 0];

    private static double[] Expected(double[] labels, double[] probabilities, int classes) =>
        labels.Select((label, r) =>
        {
            var row = probabilities.Skip(r * classes).Take(classes).ToArray();
            return -Math.Log(Clip(row[(int)label] / row.Sum()));
        }).ToArray();

    [Fact]
    public void Compute_LabelsAsVectorColumnOrFloats_GiveTheSameValues()
    {
        var expected = Expected(Labels, Probabilities, 3);
        var loss = new SparseCategoricalCrossentropy();
        Close(expected, loss.Compute(T(Labels, 3), T(Probabilities, 3, 3)));
        Close(expected, loss.Compute(T(Labels, 3, 1), T(Probabilities, 3, 3)));
        Close(expected, loss.Compute(tensor(new long[] { 1, 2, 0 }), T(Probabilities, 3, 3)));
        Close(expected, loss.Compute(F32(Labels, 3), T(Probabilities, 3, 3)));
    }

    [Fact]
    public void Compute_Sequences_AcceptLabelsWithOrWithoutTrailingAxis()
    {
        manual_seed(12);
        var logits = randn(2, 3, 4, dtype: ScalarType.Float64);
        var labels = randint(0, 4, [2, 3]);
        var expected = nn.functional.cross_entropy(logits.reshape(6, 4), labels.reshape(6), reduction: nn.Reduction.None).reshape(2, 3);
        var loss = new SparseCategoricalCrossentropy(fromLogits: true);
        TensorAssert.Close(expected, loss.Compute(labels, logits), atol: 1e-12);
        TensorAssert.Close(expected, loss.Compute(labels.unsqueeze(-1).to_type(ScalarType.Float32), logits), atol: 1e-12);
    }

    [Fact]
    public void Call_KerasDocumentationExample_GivesDocumentedValues()
    {
        var yTrue = T([1, 2], 2);
        var yPred = T([0.05, 0.95, 0, 0.1, 0.8, 0.1], 2, 3);
        Near(1.177, new SparseCategoricalCrossentropy().Call(yTrue, yPred).item<double>());
        Near(0.814, new SparseCategoricalCrossentropy().Call(yTrue, yPred, T([0.3, 0.7], 2)).item<double>());
        Near(2.354, new SparseCategoricalCrossentropy(reduction: "sum").Call(yTrue, yPred).item<double>());
        Close([0.0513, 2.303], new SparseCategoricalCrossentropy(reduction: "none").Call(yTrue, yPred), 1e-3);
    }

    [Fact]
    public void Call_LogitsSameAsNativeCrossEntropy_MatchesValueAndGradient()
    {
        manual_seed(13);
        var logits = randn(7, 5, dtype: ScalarType.Float64) * 2;
        var labels = randint(0, 5, [7]);
        var loss = new SparseCategoricalCrossentropy(fromLogits: true);
        Tensor Native(Tensor p) => nn.functional.cross_entropy(p, labels);
        Assert.Equal(Native(logits).item<double>(), loss.Call(labels, logits).item<double>(), 12);
        TensorAssert.Close(Gradient(Native, logits), Gradient(p => loss.Call(labels, p), logits), atol: 1e-12);
    }

    [Fact]
    public void Call_IgnoreClass_AveragesOverTheOtherLabelsLikeNativeIgnoreIndex()
    {
        manual_seed(14);
        var logits = randn(4, 5, 3, dtype: ScalarType.Float64);
        var labels = randint(0, 3, [4, 5]);
        labels[0, 1] = tensor(-1L);
        labels[2, 3] = tensor(-1L);
        labels[3, 0] = tensor(-1L);
        var loss = new SparseCategoricalCrossentropy(fromLogits: true, ignoreClass: -1);
        Tensor Native(Tensor p) => nn.functional.cross_entropy(p.reshape(20, 3), labels.reshape(20), ignore_index: -1);
        Assert.Equal(Native(logits).item<double>(), loss.Call(labels, logits).item<double>(), 12);
        TensorAssert.Close(Gradient(Native, logits), Gradient(p => loss.Call(labels, p), logits), atol: 1e-12);
        var values = loss.Compute(labels, logits);
        Assert.Equal(0.0, values[0, 1].item<double>());
        Assert.Equal(Native(logits).item<double>() * 17, new SparseCategoricalCrossentropy(true, -1, reduction: "sum").Call(labels, logits).item<double>(), 10);
    }

    [Fact]
    public void Call_IgnoreClassWithSampleWeights_DividesByValidCount()
    {
        double[] labels = [1, 0, 2];   // class 0 ignored (e.g. padding)
        double[] w = [2.0, 5.0, 0.5];
        var loss = new SparseCategoricalCrossentropy(ignoreClass: 0);
        var expected = Expected(labels, Probabilities, 3);
        double value = loss.Call(T(labels, 3), T(Probabilities, 3, 3), T(w, 3)).item<double>();
        Assert.Equal((w[0] * expected[0] + w[2] * expected[2]) / 2, value, 12);
    }

    [Fact]
    public void Call_LabelOutOfRange_ThrowsWithRange()
    {
        var ex = Assert.Throws<ArgumentException>(() => new SparseCategoricalCrossentropy().Call(T([0, 3, 1], 3), T(Probabilities, 3, 3)));
        Assert.Contains("[0, 2]", ex.Message);
        Assert.Contains("from 0 to 3", ex.Message);
    }

    [Fact]
    public void Call_OneHotLabels_ThrowsPointingToCategoricalLoss()
    {
        var ex = Assert.Throws<ArgumentException>(() => new SparseCategoricalCrossentropy().Call(T([0, 1, 0, 0, 0, 1], 2, 3), T([0.2, 0.3, 0.5, 0.1, 0.1, 0.8], 2, 3)));
        Assert.Contains("y_true.shape=[2, 3]", ex.Message);
        Assert.Contains("CategoricalCrossentropy", ex.Message);
    }
}
