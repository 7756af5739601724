using static TorchSharp.torch;

namespace SeqSharp.Interpretability;

/// <summary>
/// The result of <see cref="Attributions.Lime"/>: per sample, the coefficients of the local linear
/// surrogate over the interpretable features (windows of time steps, per feature or over all
/// features), its intercept, and its weighted R² on the perturbed samples.
/// </summary>
/// <example>
/// <code>
/// var lime = Attributions.Lime(model, x, segments: 5, samples: 2000, kernelWidth: 0.25, seed: 1);
/// Tensor coefficients = lime.Coefficients;    // (batch, windows, features)
/// double r2 = lime.Score;                      // mean weighted R² over the batch
/// </code>
/// </example>
public sealed class LimeExplanation
{
    internal LimeExplanation(Tensor coefficients, Tensor intercepts, Tensor scores, int segments)
    {
        Coefficients = coefficients;
        Intercepts = intercepts;
        Scores = scores;
        Segments = segments;
        Score = scores.to_type(ScalarType.Float64).mean().item<double>();
    }

    /// <summary>
    /// The surrogate's coefficients, <c>(batch, windows, features)</c> (or <c>(batch, windows, 1)</c>
    /// when whole steps were switched): how much the output rises when that window of that feature
    /// keeps the sample's values instead of the background's.
    /// </summary>
    public Tensor Coefficients { get; }

    /// <summary>The surrogate's intercept per sample, <c>(batch)</c>: its prediction with every window switched to the background.</summary>
    public Tensor Intercepts { get; }

    /// <summary>The surrogate's weighted R² per sample, <c>(batch)</c>, on the perturbed samples with the kernel weights (LIME's <c>score</c>).</summary>
    public Tensor Scores { get; }

    /// <summary>The weighted R² of the surrogate, the mean of <see cref="Scores"/> over the batch (the one sample's when the batch is 1).</summary>
    public double Score { get; }

    /// <summary>Time steps per window; window <c>k</c> covers steps <c>k · Segments</c> to <c>min(timesteps, (k + 1) · Segments) - 1</c>.</summary>
    public int Segments { get; }
}
