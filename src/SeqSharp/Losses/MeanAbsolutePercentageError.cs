using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>
/// Mean absolute percentage error over the last axis:
/// <c>100 · mean(|y_true - y_pred| / max(|y_true|, 1e-7), axis=-1)</c>.
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "mape");
/// </code>
/// </example>
public sealed class MeanAbsolutePercentageError : Loss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">See <see cref="Loss"/>; default <c>"sum_over_batch_size"</c>.</param>
    /// <param name="name">Default <c>"mean_absolute_percentage_error"</c>.</param>
    /// <exception cref="ArgumentException">An unknown reduction.</exception>
    public MeanAbsolutePercentageError(string reduction = "sum_over_batch_size", string? name = null)
        : base(name ?? "mean_absolute_percentage_error", reduction) { }

    /// <inheritdoc />
    public override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var (t, p) = LossInputs.Align(yTrue, yPred, Who);
        return ((t - p) / t.abs().clamp_min(LossInputs.Epsilon)).abs().mean([-1]) * 100.0;
    }
}
