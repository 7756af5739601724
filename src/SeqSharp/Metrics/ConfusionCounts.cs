using SeqSharp.Losses;
using static TorchSharp.torch;

namespace SeqSharp.Metrics;

/// <summary>
/// Keras's <c>update_confusion_matrix_variables</c>: weighted counts of true/false positives and
/// negatives at each threshold, where a prediction counts as positive when it is strictly above the
/// threshold and a label when it is non-zero.
/// </summary>
internal static class ConfusionCounts
{
    /// <summary>Keras's <c>NEG_INF</c>: what top-k filtering gives the classes outside the top k.</summary>
    public const double NegativeInfinity = -1e10;

    /// <summary>The counts of one batch, each <c>(thresholds, labels)</c> flattened row-major.</summary>
    public sealed record Batch(double[] TruePositives, double[] FalsePositives, double[] TrueNegatives, double[] FalseNegatives);

    /// <summary>
    /// Brings labels, predictions and weights to one shape in doubles: Keras's squeeze or expand of
    /// the ranks, then weights broadcast over the predictions (a weight per sample covers its row).
    /// </summary>
    public static (Tensor YTrue, Tensor YPred, Tensor Weights) Prepare(Tensor yTrue, Tensor yPred, Tensor? sampleWeight, string who)
    {
        var (t, p) = LossInputs.Cast(yTrue, yPred, who);
        t = t.detach().to_type(ScalarType.Float64);
        p = p.detach().to_type(ScalarType.Float64);
        (p, t) = LossInputs.SqueezeOrExpandToSameRank(p, t);
        if (!t.shape.SequenceEqual(p.shape))
            throw new ArgumentException(
                $"{who} expected y_true and y_pred of the same shape (a trailing axis of size 1 on one of them is ignored). " +
                $"Received: y_true.shape={LossInputs.Shape(yTrue)}, y_pred.shape={LossInputs.Shape(yPred)}.");
        var w = sampleWeight is null
            ? ones_like(p)
            : LossReduction.AlignToPrefix(sampleWeight.detach().to_type(ScalarType.Float64).to(p.device), p, who).broadcast_to(p.shape);
        return (t, p, w);
    }

    /// <summary>Keeps the <paramref name="k"/> largest values of the last axis and sets the others to <see cref="NegativeInfinity"/>.</summary>
    public static Tensor FilterTopK(Tensor x, int k)
    {
        long classes = x.shape[^1];
        if (k >= classes)
            return x;
        var indices = x.topk(k, dim: -1).indexes;
        var keep = zeros_like(x).scatter_(-1, indices, ones_like(indices, dtype: x.dtype));
        return x * keep + NegativeInfinity * (1.0 - keep);
    }

    /// <summary>
    /// Counts at each threshold. Without <paramref name="perLabel"/>, every value is one observation of
    /// one label; with it, <paramref name="yPred"/> is <c>(batch, labels)</c> and each column is counted apart.
    /// </summary>
    public static Batch Count(Tensor yTrue, Tensor yPred, Tensor weights, double[] thresholds, bool perLabel)
    {
        using var scope = NewDisposeScope();
        long labels = perLabel ? yPred.shape[^1] : 1;
        var p = yPred.reshape(-1, labels);
        var positive = yTrue.reshape(-1, labels).ne(0);
        var w = weights.reshape(-1, labels);
        var thresholdColumn = tensor(thresholds, ScalarType.Float64).to(p.device).reshape(-1, 1, 1);
        var predictedPositive = p.unsqueeze(0) > thresholdColumn;                 // (thresholds, n, labels)
        var positiveWeight = (w * positive.to_type(ScalarType.Float64)).unsqueeze(0);
        var negativeWeight = (w * positive.logical_not().to_type(ScalarType.Float64)).unsqueeze(0);
        var above = predictedPositive.to_type(ScalarType.Float64);
        var tp = (above * positiveWeight).sum(1);
        var fp = (above * negativeWeight).sum(1);
        var fn = positiveWeight.sum(1) - tp;
        var tn = negativeWeight.sum(1) - fp;
        return new Batch(Flat(tp), Flat(fp), Flat(tn), Flat(fn));
    }

    /// <summary><c>a / b</c>, 0 where <c>b</c> is 0 (Keras's <c>divide_no_nan</c>).</summary>
    public static double DivideNoNan(double a, double b) => b == 0 ? 0.0 : a / b;

    /// <summary>Adds <paramref name="batch"/> into <paramref name="total"/>.</summary>
    public static void Accumulate(double[] total, double[] batch)
    {
        for (int i = 0; i < total.Length; i++)
            total[i] += batch[i];
    }

    private static double[] Flat(Tensor t) => t.contiguous().data<double>().ToArray();
}
