using SeqSharp.Layers;
using SeqSharp.Losses;
using static TorchSharp.torch;

namespace SeqSharp.Metrics;

/// <summary>Keras's per-sample accuracy functions: 1 where the prediction is right, 0 elsewhere.</summary>
internal static class AccuracyFunctions
{
    /// <summary>Keras <c>binary_accuracy</c>: <c>mean(y_true == (y_pred &gt; threshold), axis=-1)</c>.</summary>
    public static Tensor Binary(Tensor yTrue, Tensor yPred, double threshold, string who)
    {
        var (t, p) = LossInputs.Align(yTrue, yPred, who);
        return t.eq(p.gt(threshold).to_type(t.dtype)).to_type(p.dtype).mean([-1]);
    }

    /// <summary>Keras <c>categorical_accuracy</c>: <c>argmax(y_true) == argmax(y_pred)</c> over the last axis.</summary>
    public static Tensor Categorical(Tensor yTrue, Tensor yPred, string who)
    {
        var (t, p) = LossInputs.Align(yTrue, yPred, who,
            "For integer class labels use SparseCategoricalAccuracy (\"sparse_categorical_accuracy\").");
        return t.argmax(-1).eq(p.argmax(-1)).to_type(p.dtype);
    }

    /// <summary>Keras <c>sparse_categorical_accuracy</c>: <c>y_true == argmax(y_pred)</c>.</summary>
    public static Tensor SparseCategorical(Tensor yTrue, Tensor yPred, string who)
    {
        var (labels, p) = Labels(yTrue, yPred, who);
        var matches = labels.eq(p.argmax(-1).to_type(labels.dtype)).to_type(p.dtype);
        return matches.dim() > 1 && matches.shape[^1] == 1 ? matches.squeeze(-1) : matches;
    }

    /// <summary>Keras <c>top_k_categorical_accuracy</c>: the true class's score is among the <paramref name="k"/> largest (ties count as in).</summary>
    public static Tensor TopKCategorical(Tensor yTrue, Tensor yPred, int k, string who)
    {
        var (t, p) = LossInputs.Align(yTrue, yPred, who,
            "For integer class labels use a sparse metric.");
        var target = p.gather(-1, t.argmax(-1).unsqueeze(-1));
        return p.gt(target).sum(-1).lt(k).to_type(p.dtype);
    }

    /// <summary>Labels of <paramref name="yPred"/>'s shape without its last axis (a trailing axis of size 1 dropped), compared exactly as Keras does.</summary>
    private static (Tensor Labels, Tensor YPred) Labels(Tensor yTrue, Tensor yPred, string who)
    {
        var (t, p) = LossInputs.Cast(yTrue, yPred, who);
        if (t.dim() == p.dim() && t.dim() > 0 && t.shape[^1] == 1)
            t = t.squeeze(-1);
        if (p.dim() == 0 || !t.shape.SequenceEqual(p.shape[..^1]))
            throw new ArgumentException(
                $"{who} expected integer labels of y_pred's shape without its class axis{(p.dim() == 0 ? "" : ", " + ShapeText.Format(p.shape[..^1]))} " +
                $"(or with a trailing axis of size 1). Received: y_true.shape={LossInputs.Shape(yTrue)}, y_pred.shape={LossInputs.Shape(yPred)}. " +
                "For one-hot labels use CategoricalAccuracy (\"categorical_accuracy\").");
        return (t, p);
    }
}
