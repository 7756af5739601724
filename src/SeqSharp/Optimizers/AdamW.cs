using SeqSharp.Optimizers.Schedules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Optimizers;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter): <see cref="Adam"/> with decoupled weight decay, which is on by
/// default. As in Keras, each step first shrinks every variable, <c>w -= w · weightDecay · lr</c>, then
/// applies the Adam update.
/// </summary>
/// <remarks>State per variable: as <see cref="Adam"/>.</remarks>
/// <example>
/// <code>
/// var optimizer = new AdamW(learningRate: 1e-3, weightDecay: 0.01);
/// </code>
/// </example>
public sealed class AdamW : Adam
{
    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">A rate or schedule. Default 0.001.</param>
    /// <param name="weightDecay">Decoupled weight decay factor, finite and non-negative. Default 0.004.</param>
    /// <param name="beta1">Decay of the first-moment average, in [0, 1). Default 0.9.</param>
    /// <param name="beta2">Decay of the second-moment average, in [0, 1). Default 0.999.</param>
    /// <param name="epsilon">Added to <c>sqrt(v)</c>, non-negative. Default 1e-7.</param>
    /// <param name="amsgrad">Whether to use the AMSGrad variant. Default false.</param>
    /// <param name="clipnorm">Per-gradient norm limit; null (default) for none.</param>
    /// <param name="clipvalue">Per-element gradient limit; null (default) for none.</param>
    /// <param name="globalClipnorm">Joint norm limit of all gradients; null (default) for none.</param>
    /// <param name="name">Default <c>"adamw"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside the ranges above.</exception>
    /// <exception cref="ArgumentException">More than one clipping argument, or an empty name.</exception>
    public AdamW(LearningRateSchedule? learningRate = null, double weightDecay = 0.004, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-7, bool amsgrad = false, double? clipnorm = null, double? clipvalue = null,
        double? globalClipnorm = null, string? name = null)
        : base(name ?? "adamw", learningRate, beta1, beta2, epsilon, amsgrad, weightDecay, clipnorm, clipvalue, globalClipnorm)
    {
    }
}
