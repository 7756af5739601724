using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>
/// Mean squared logarithmic error over the last axis:
/// <c>mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))², axis=-1)</c>.
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "msle");
/// </code>
/// </example>
public sealed class MeanSquaredLogarithmicError : Loss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">See <see cref="Loss"/>; default <c>"sum_over_batch_size"</c>.</param>
    /// <param name="name">Default <c>"mean_squared_logarithmic_error"</c>.</param>
    /// <exception cref="ArgumentException">An unknown reduction.</exception>
    public MeanSquaredLogarithmicError(string reduction = "sum_over_batch_size", string? name = null)
        : base(name ?? "mean_squared_logarithmic_error", reduction) { }

    /// <inheritdoc />
    public override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var (t, p) = LossInputs.Align(yTrue, yPred, Who);
        var first = (p.clamp_min(LossInputs.Epsilon) + 1.0).log();
        var second = (t.clamp_min(LossInputs.Epsilon) + 1.0).log();
        return (first - second).square().mean([-1]);
    }
}
