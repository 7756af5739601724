using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>
/// Categorical hinge loss for one-hot targets: <c>max(neg - pos + 1, 0)</c> with
/// <c>pos = Σ y_true · y_pred</c> and <c>neg = max((1 - y_true) · y_pred)</c> over the last axis.
/// </summary>
/// <example>
/// <code>
/// model.Add(new Dense(10));
/// model.Compile(optimizer: "adam", loss: "categorical_hinge");
/// </code>
/// </example>
public sealed class CategoricalHinge : Loss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">See <see cref="Loss"/>; default <c>"sum_over_batch_size"</c>.</param>
    /// <param name="name">Default <c>"categorical_hinge"</c>.</param>
    /// <exception cref="ArgumentException">An unknown reduction.</exception>
    public CategoricalHinge(string reduction = "sum_over_batch_size", string? name = null)
        : base(name ?? "categorical_hinge", reduction) { }

    /// <inheritdoc />
    public override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var (t, p) = LossInputs.Align(yTrue, yPred, Who);
        var positive = (t * p).sum([-1]);
        var negative = ((1.0 - t) * p).amax([-1]);
        return (negative - positive + 1.0).clamp_min(0.0);
    }
}
