using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>Mean of the absolute errors over the last axis: <c>mean(|y_true - y_pred|, axis=-1)</c>.</summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "mae");
/// </code>
/// </example>
public sealed class MeanAbsoluteError : Loss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">See <see cref="Loss"/>; default <c>"sum_over_batch_size"</c>.</param>
    /// <param name="name">Default <c>"mean_absolute_error"</c>.</param>
    /// <exception cref="ArgumentException">An unknown reduction.</exception>
    public MeanAbsoluteError(string reduction = "sum_over_batch_size", string? name = null)
        : base(name ?? "mean_absolute_error", reduction) { }

    /// <inheritdoc />
    public override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var (t, p) = LossInputs.Align(yTrue, yPred, Who);
        return (t - p).abs().mean([-1]);
    }
}
