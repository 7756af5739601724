using SeqSharp.Layers;
using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>Integer class labels as Keras's sparse losses and metrics accept them.</summary>
internal static class SparseLabels
{
    /// <summary>
    /// Labels as an int64 tensor of <paramref name="yPred"/>'s shape without its last axis (a trailing
    /// axis of size 1 on the labels is dropped), and <paramref name="yPred"/> as floating point.
    /// Floating-point labels are rounded to the nearest whole number.
    /// </summary>
    /// <exception cref="ArgumentException">The labels' shape does not match.</exception>
    public static (Tensor Labels, Tensor YPred) Align(Tensor yTrue, Tensor yPred, string who)
    {
        if (yTrue is null)
            throw new ArgumentNullException(nameof(yTrue), $"{who}: y_true is null.");
        if (yPred is null)
            throw new ArgumentNullException(nameof(yPred), $"{who}: y_pred is null.");
        LossInputs.RequireReal(yTrue, yPred, who);
        if (!yPred.is_floating_point())
            yPred = yPred.to_type(ScalarType.Float32);
        var (t, p) = LossInputs.SqueezeOrExpandToSameRank(yTrue, yPred);
        if (t.dim() == p.dim() && t.dim() > 0 && t.shape[^1] == 1)
            t = t.squeeze(-1);
        if (p.dim() == 0)
            throw new ArgumentException($"{who} expected y_pred with a class axis. Received: y_pred.shape={LossInputs.Shape(yPred)}.");
        if (!t.shape.SequenceEqual(p.shape[..^1]))
            throw new ArgumentException(
                $"{who} expected integer labels of y_pred's shape without its class axis, {ShapeText.Format(p.shape[..^1])} " +
                $"(or with a trailing axis of size 1). Received: y_true.shape={LossInputs.Shape(yTrue)}, y_pred.shape={LossInputs.Shape(yPred)}. " +
                "For one-hot labels use CategoricalCrossentropy (\"categorical_crossentropy\").");
        if (t.is_floating_point())
            t = t.round();
        t = t.to_type(ScalarType.Int64);
        if (t.device_type != p.device_type || t.device_index != p.device_index)
            t = t.to(p.device);
        return (t, p);
    }

    /// <exception cref="ArgumentException">A label outside <c>[0, classes)</c>.</exception>
    public static void CheckRange(Tensor labels, long classes, string who)
    {
        if (labels.numel() == 0)
            return;
        long min = labels.min().item<long>(), max = labels.max().item<long>();
        if (min < 0 || max >= classes)
            throw new ArgumentException(
                $"{who} expected labels in [0, {classes - 1}] for y_pred with {classes} classes. Received labels from {min} to {max}.");
    }
}
