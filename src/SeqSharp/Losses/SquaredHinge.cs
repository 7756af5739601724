using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>
/// Squared hinge loss over the last axis: <c>mean(max(1 - y_true · y_pred, 0)², axis=-1)</c>. Labels
/// are expected to be -1 or 1; when all the labels of a batch are 0 or 1 they are converted to -1 or 1
/// (Keras 3).
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "squared_hinge");
/// </code>
/// </example>
public sealed class SquaredHinge : Loss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">See <see cref="Loss"/>; default <c>"sum_over_batch_size"</c>.</param>
    /// <param name="name">Default <c>"squared_hinge"</c>.</param>
    /// <exception cref="ArgumentException">An unknown reduction.</exception>
    public SquaredHinge(string reduction = "sum_over_batch_size", string? name = null)
        : base(name ?? "squared_hinge", reduction) { }

    /// <inheritdoc />
    public override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var (t, p) = LossInputs.Align(yTrue, yPred, Who);
        return (1.0 - HingeLabels.ToSigned(t) * p).clamp_min(0.0).square().mean([-1]);
    }
}
