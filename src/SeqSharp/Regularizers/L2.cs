using static TorchSharp.torch;

namespace SeqSharp.Regularizers;

/// <summary>L2 penalty: <c>l2 · Σx²</c> (Keras <c>keras.regularizers.L2</c>; the name <c>"l2"</c> gives 0.01).</summary>
/// <example>
/// <code>
/// model.Add(new LSTM(32, kernelRegularizer: new L2(1e-4), recurrentRegularizer: "l2"));
/// </code>
/// </example>
public sealed class L2 : Regularizer
{
    /// <summary>Creates the regularizer.</summary>
    /// <param name="l2">The factor, finite and non-negative. Default 0.01.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative or non-finite factor.</exception>
    public L2(double l2 = 0.01)
    {
        Factor = CheckFactor(l2, nameof(l2));
    }

    /// <summary>The factor.</summary>
    public double Factor { get; }

    /// <inheritdoc />
    public override Tensor Compute(Tensor x) => x.square().sum() * Factor;

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig() => new() { ["l2"] = Factor };
}
