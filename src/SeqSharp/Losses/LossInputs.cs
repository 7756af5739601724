using SeqSharp.Layers;
using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>Brings <c>y_true</c> and <c>y_pred</c> to one type and shape, as Keras's losses and metrics do.</summary>
internal static class LossInputs
{
    /// <summary>Keras's <c>backend.epsilon()</c>, used to clip probabilities and denominators.</summary>
    public const double Epsilon = 1e-7;

    /// <summary>
    /// Keras's <c>squeeze_or_expand_to_same_rank</c>: when the ranks differ by exactly one and the
    /// longer tensor ends in a size-1 axis, that axis is squeezed (or, if the shorter one has rank 1,
    /// the shorter one gets a trailing axis). Otherwise both are returned unchanged.
    /// </summary>
    public static (Tensor X1, Tensor X2) SqueezeOrExpandToSameRank(Tensor x1, Tensor x2, bool expandRank1 = true)
    {
        long r1 = x1.dim(), r2 = x2.dim();
        if (r1 == r2)
            return (x1, x2);
        if (r1 == r2 + 1 && x1.shape[^1] == 1)
        {
            if (r2 == 1 && expandRank1)
                x2 = x2.unsqueeze(-1);
            else
                x1 = x1.squeeze(-1);
        }
        if (r2 == r1 + 1 && x2.shape[^1] == 1)
        {
            if (r1 == 1 && expandRank1)
                x1 = x1.unsqueeze(-1);
            else
                x2 = x2.squeeze(-1);
        }
        return (x1, x2);
    }

    /// <summary>
    /// <paramref name="yPred"/> as a floating-point tensor (float32 if it was not), and
    /// <paramref name="yTrue"/> converted to its element type and device.
    /// </summary>
    public static (Tensor YTrue, Tensor YPred) Cast(Tensor yTrue, Tensor yPred, string who)
    {
        if (yTrue is null)
            throw new ArgumentNullException(nameof(yTrue), $"{who}: y_true is null.");
        if (yPred is null)
            throw new ArgumentNullException(nameof(yPred), $"{who}: y_pred is null.");
        RequireReal(yTrue, yPred, who);
        if (!yPred.is_floating_point())
            yPred = yPred.to_type(ScalarType.Float32);
        if (yTrue.dtype != yPred.dtype)
            yTrue = yTrue.to_type(yPred.dtype);
        if (yTrue.device_type != yPred.device_type || yTrue.device_index != yPred.device_index)
            yTrue = yTrue.to(yPred.device);
        return (yTrue, yPred);
    }

    /// <summary>
    /// Casts, applies <see cref="SqueezeOrExpandToSameRank"/>, and requires the two shapes to be equal
    /// and of rank 1 or more, so that the last axis can be reduced.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes differ after the squeeze or expand, or are scalars.</exception>
    public static (Tensor YTrue, Tensor YPred) Align(Tensor yTrue, Tensor yPred, string who, string? hint = null)
    {
        (yTrue, yPred) = Cast(yTrue, yPred, who);
        var (t, p) = SqueezeOrExpandToSameRank(yTrue, yPred);
        if (!t.shape.SequenceEqual(p.shape) || p.dim() == 0)
            throw new ArgumentException(
                $"{who} expected y_true and y_pred of the same shape, of rank 1 or more (a trailing axis of size 1 on one of them is ignored). " +
                $"Received: y_true.shape={Shape(yTrue)}, y_pred.shape={Shape(yPred)}.{(hint is null ? "" : " " + hint)}");
        return (t, p);
    }

    /// <summary><c>[32, 10, 1]</c>.</summary>
    public static string Shape(Tensor t) => ShapeText.Format(t.shape);

    /// <summary>Refuses complex targets or predictions: converting them to real would silently drop the imaginary part.</summary>
    public static void RequireReal(Tensor yTrue, Tensor yPred, string who)
    {
        if (yTrue.is_complex() || yPred.is_complex())
            throw new ArgumentException(
                $"{who} expected real-valued y_true and y_pred. Received: y_true.dtype={yTrue.dtype}, y_pred.dtype={yPred.dtype}.");
    }
}
