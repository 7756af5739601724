using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>
/// Logarithm of the hyperbolic cosine of the error, averaged over the last axis:
/// <c>mean(log(cosh(y_pred - y_true)), axis=-1)</c>, computed as <c>x + softplus(-2x) - log 2</c>
/// so that large errors do not overflow. Close to <c>x²/2</c> for small errors and <c>|x| - log 2</c> for large ones.
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "log_cosh");
/// </code>
/// </example>
public sealed class LogCosh : Loss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">See <see cref="Loss"/>; default <c>"sum_over_batch_size"</c>.</param>
    /// <param name="name">Default <c>"log_cosh"</c>.</param>
    /// <exception cref="ArgumentException">An unknown reduction.</exception>
    public LogCosh(string reduction = "sum_over_batch_size", string? name = null)
        : base(name ?? "log_cosh", reduction) { }

    /// <inheritdoc />
    public override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var (t, p) = LossInputs.Align(yTrue, yPred, Who);
        var x = p - t;
        return (x + nn.functional.softplus(x * -2.0) - Math.Log(2.0)).mean([-1]);
    }
}
