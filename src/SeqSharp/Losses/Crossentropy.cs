using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>What the crossentropy losses share: argument checks and Keras's log-probabilities.</summary>
internal static class Crossentropy
{
    /// <exception cref="ArgumentOutOfRangeException">Outside [0, 1].</exception>
    public static double CheckLabelSmoothing(double labelSmoothing)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing,
                $"Expected labelSmoothing in [0, 1]. Received: labelSmoothing={labelSmoothing}.");
        return labelSmoothing;
    }

    /// <summary>
    /// Refuses binary cross-entropy targets outside [0, 1] (or NaN) before LibTorch sees them: its
    /// <c>binary_cross_entropy</c> raises a native error for them ("all elements of target should be
    /// between 0 and 1"), and no reading of such a target as a label or a probability makes sense.
    /// </summary>
    /// <param name="targets">The targets, floating point.</param>
    /// <param name="who">The start of the message, e.g. <c>Loss 'binary_crossentropy'</c>.</param>
    /// <param name="where">What the targets are called in the message, e.g. <c>y_true</c> or <c>'y'</c>.</param>
    public static void CheckBinaryTargets(Tensor targets, string who, string where)
    {
        if (targets.numel() == 0)
            return;
        using var scope = NewDisposeScope();
        var bad = targets.ge(0).logical_and(targets.le(1)).logical_not().reshape(-1);
        if (!bad.any().item<bool>())
            return;
        long index = bad.nonzero()[0][0].item<long>();
        double value = targets.reshape(-1)[index].to_type(ScalarType.Float64).item<double>();
        long perSample = targets.dim() == 0 ? 1 : Math.Max(1, targets.numel() / targets.shape[0]);
        throw new ArgumentException(
            $"{who} expects targets in [0, 1]: 0 or 1 for class labels, or a probability. Received {value.ToString(System.Globalization.CultureInfo.InvariantCulture)} " +
            $"in {where} (sample {index / perSample}). For more than two classes use categorical_crossentropy (one-hot targets) " +
            "or sparse_categorical_crossentropy (class indices).");
    }

    /// <summary>
    /// Log-probabilities along <paramref name="axis"/>: <c>log_softmax</c> of logits, or, for
    /// probabilities, Keras's <c>log(clip(p / sum(p), 1e-7, 1 - 1e-7))</c>.
    /// </summary>
    public static Tensor LogProbabilities(Tensor yPred, bool fromLogits, long axis)
    {
        if (fromLogits)
            return yPred.log_softmax(axis);
        var normalized = yPred / yPred.sum(axis, keepdim: true);
        return normalized.clamp(LossInputs.Epsilon, 1.0 - LossInputs.Epsilon).log();
    }
}
