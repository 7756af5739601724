using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>
/// Poisson loss over the last axis: <c>mean(y_pred - y_true · log(y_pred + 1e-7), axis=-1)</c>, for
/// count targets and non-negative predictions (e.g. a <c>"softplus"</c> or <c>"exponential"</c> output).
/// </summary>
/// <example>
/// <code>
/// model.Add(new Dense(1, activation: "softplus"));
/// model.Compile(optimizer: "adam", loss: "poisson");
/// </code>
/// </example>
public sealed class Poisson : Loss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">See <see cref="Loss"/>; default <c>"sum_over_batch_size"</c>.</param>
    /// <param name="name">Default <c>"poisson"</c>.</param>
    /// <exception cref="ArgumentException">An unknown reduction.</exception>
    public Poisson(string reduction = "sum_over_batch_size", string? name = null)
        : base(name ?? "poisson", reduction) { }

    /// <inheritdoc />
    public override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var (t, p) = LossInputs.Align(yTrue, yPred, Who);
        return (p - t * (p + LossInputs.Epsilon).log()).mean([-1]);
    }
}
