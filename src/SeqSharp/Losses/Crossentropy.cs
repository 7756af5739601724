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
