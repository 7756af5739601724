using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>Keras's <c>reduce_weighted_values</c>: mask, sample weights, then the reduction.</summary>
internal static class LossReduction
{
    public const string SumOverBatchSize = "sum_over_batch_size";
    public const string Sum = "sum";
    public const string None = "none";
    public const string Mean = "mean";
    public const string MeanWithSampleWeight = "mean_with_sample_weight";

    public static readonly IReadOnlyList<string> Names = [SumOverBatchSize, Sum, None, Mean, MeanWithSampleWeight];

    /// <exception cref="ArgumentException">Not one of <see cref="Names"/>.</exception>
    public static string Standardize(string reduction)
    {
        if (reduction is not null && Names.Contains(reduction))
            return reduction;
        throw new ArgumentException(
            $"Invalid value for argument reduction. Expected one of: {string.Join(", ", Names.Select(n => $"\"{n}\""))}. Received: reduction={(reduction is null ? "null" : $"\"{reduction}\"")}.",
            nameof(reduction));
    }

    /// <summary>
    /// Weights <paramref name="values"/> by <paramref name="sampleWeight"/> (and by the mask, if any), then reduces them.
    /// </summary>
    public static Tensor ReduceWeighted(Tensor values, Tensor? sampleWeight, Tensor? mask, string reduction, string who)
    {
        sampleWeight = ApplyMask(sampleWeight, mask, values, reduction, who);
        if (sampleWeight is not null)
        {
            sampleWeight = ToValues(sampleWeight, values);
            (values, sampleWeight) = LossInputs.SqueezeOrExpandToSameRank(values, sampleWeight);
            // Broadcast, so that "mean_with_sample_weight" divides by the weight of every value.
            sampleWeight = AlignToPrefix(sampleWeight, values, who).broadcast_to(values.shape);
            values = values * sampleWeight;
        }
        return Reduce(values, sampleWeight, reduction);
    }

    /// <summary>
    /// Keras's <c>apply_mask</c>: masked-out values get weight 0; with a mean-type reduction the
    /// others get <c>total / valid</c>, so that the mean is over the valid values only.
    /// </summary>
    private static Tensor? ApplyMask(Tensor? sampleWeight, Tensor? mask, Tensor values, string reduction, string who)
    {
        if (mask is null)
            return sampleWeight;
        mask = ToValues(mask, values);
        if (reduction is SumOverBatchSize or Mean)
        {
            var valid = mask.sum();
            var scale = where(valid.eq(0), zeros_like(valid), mask.numel() / where(valid.eq(0), ones_like(valid), valid));
            mask = mask * scale;
        }
        if (sampleWeight is null)
            return mask;
        sampleWeight = ToValues(sampleWeight, values);
        (mask, sampleWeight) = LossInputs.SqueezeOrExpandToSameRank(mask, sampleWeight);
        return AlignToPrefix(sampleWeight, mask, who) * mask;
    }

    /// <summary>Keras's <c>reduce_values</c>.</summary>
    private static Tensor Reduce(Tensor values, Tensor? sampleWeight, string reduction)
    {
        if (reduction == None || values.dim() == 0 || (values.dim() == 1 && values.shape[0] == 0))
            return values;
        var loss = values.sum();
        if (reduction == Sum)
            return loss;
        if (reduction == MeanWithSampleWeight && sampleWeight is not null)
            return DivideNoNan(loss, sampleWeight.sum());
        long n = values.numel();
        return n > 0 ? loss / n : zeros_like(loss);
    }

    /// <summary>
    /// Broadcasts sample weights over the values from the left: a weight of shape <c>(batch,)</c>
    /// multiplies every value of its sample, <c>(batch, timesteps)</c> every value of its step.
    /// Each size must equal the values' size on that axis, or be 1.
    /// </summary>
    /// <exception cref="ArgumentException">The weight shape is not a prefix of the values' shape.</exception>
    internal static Tensor AlignToPrefix(Tensor weight, Tensor values, string who)
    {
        var w = weight.shape;
        var v = values.shape;
        bool ok = w.Length <= v.Length;
        for (int i = 0; ok && i < w.Length; i++)
            ok = w[i] == v[i] || w[i] == 1;
        if (!ok)
            throw new ArgumentException(
                $"{who} expected sample_weight to be a scalar, of shape (batch,), or of any shape that is a prefix of the per-sample values' shape {LossInputs.Shape(values)} " +
                $"(each size equal or 1). Received: sample_weight.shape={LossInputs.Shape(weight)}.");
        return w.Length == v.Length ? weight : weight.reshape([.. w, .. Enumerable.Repeat(1L, v.Length - w.Length)]);
    }

    private static Tensor ToValues(Tensor t, Tensor values)
    {
        if (t.dtype != values.dtype)
            t = t.to_type(values.dtype);
        if (t.device_type != values.device_type || t.device_index != values.device_index)
            t = t.to(values.device);
        return t;
    }

    private static Tensor DivideNoNan(Tensor numerator, Tensor denominator)
    {
        var zero = denominator.eq(0);
        return where(zero, zeros_like(numerator), numerator / where(zero, ones_like(denominator), denominator));
    }
}
