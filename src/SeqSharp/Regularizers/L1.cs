using static TorchSharp.torch;

namespace SeqSharp.Regularizers;

/// <summary>L1 penalty: <c>l1 · Σ|x|</c> (Keras <c>keras.regularizers.L1</c>; the name <c>"l1"</c> gives 0.01).</summary>
/// <example>
/// <code>
/// model.Add(new Dense(8, kernelRegularizer: new L1(1e-3)));
/// </code>
/// </example>
public sealed class L1 : Regularizer
{
    /// <summary>Creates the regularizer.</summary>
    /// <param name="l1">The factor, finite and non-negative. Default 0.01.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative or non-finite factor.</exception>
    public L1(double l1 = 0.01)
    {
        Factor = CheckFactor(l1, nameof(l1));
    }

    /// <summary>The factor.</summary>
    public double Factor { get; }

    /// <inheritdoc />
    public override Tensor Compute(Tensor x) => x.abs().sum() * Factor;

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig() => new() { ["l1"] = Factor };
}
