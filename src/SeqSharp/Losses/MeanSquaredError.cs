using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>Mean of the squared errors over the last axis: <c>mean((y_true - y_pred)², axis=-1)</c>.</summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: new MeanSquaredError());   // or loss: "mse"
/// </code>
/// </example>
public sealed class MeanSquaredError : Loss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">See <see cref="Loss"/>; default <c>"sum_over_batch_size"</c>.</param>
    /// <param name="name">Default <c>"mean_squared_error"</c>.</param>
    /// <exception cref="ArgumentException">An unknown reduction.</exception>
    public MeanSquaredError(string reduction = "sum_over_batch_size", string? name = null)
        : base(name ?? "mean_squared_error", reduction) { }

    /// <inheritdoc />
    public override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var (t, p) = LossInputs.Align(yTrue, yPred, Who);
        return (t - p).square().mean([-1]);
    }
}
