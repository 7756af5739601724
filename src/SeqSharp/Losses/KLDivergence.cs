using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>
/// Kullback-Leibler divergence over the last axis: <c>Σ y_true · log(y_true / y_pred)</c>, with both
/// clipped to <c>[1e-7, 1]</c> first (Keras 3). Aliases <c>"kld"</c>, <c>"KLD"</c>, <c>"kl_divergence"</c>.
/// </summary>
/// <example>
/// <code>
/// model.Add(new Dense(10, activation: "softmax"));
/// model.Compile(optimizer: "adam", loss: "kl_divergence");
/// </code>
/// </example>
public sealed class KLDivergence : Loss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">See <see cref="Loss"/>; default <c>"sum_over_batch_size"</c>.</param>
    /// <param name="name">Default <c>"kl_divergence"</c>.</param>
    /// <exception cref="ArgumentException">An unknown reduction.</exception>
    public KLDivergence(string reduction = "sum_over_batch_size", string? name = null)
        : base(name ?? "kl_divergence", reduction) { }

    /// <inheritdoc />
    public override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var (t, p) = LossInputs.Align(yTrue, yPred, Who);
        t = t.clamp(LossInputs.Epsilon, 1.0);
        p = p.clamp(LossInputs.Epsilon, 1.0);
        return (t * (t / p).log()).sum([-1]);
    }
}
