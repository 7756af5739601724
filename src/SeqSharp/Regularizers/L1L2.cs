using static TorchSharp.torch;

namespace SeqSharp.Regularizers;

/// <summary>
/// L1 and L2 penalties together: <c>l1 · Σ|x| + l2 · Σx²</c> (Keras <c>keras.regularizers.L1L2</c>).
/// The constructor's defaults are Keras's (0 and 0); the name <c>"l1_l2"</c> gives 0.01 and 0.01,
/// as Keras documents it.
/// </summary>
/// <example>
/// <code>
/// model.Add(new Dense(8, kernelRegularizer: new L1L2(l1: 1e-5, l2: 1e-4)));
/// </code>
/// </example>
public sealed class L1L2 : Regularizer
{
    /// <summary>Creates the regularizer.</summary>
    /// <param name="l1">The L1 factor, finite and non-negative. Default 0.</param>
    /// <param name="l2">The L2 factor, finite and non-negative. Default 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative or non-finite factor.</exception>
    public L1L2(double l1 = 0.0, double l2 = 0.0)
    {
        L1Factor = CheckFactor(l1, nameof(l1));
        L2Factor = CheckFactor(l2, nameof(l2));
    }

    /// <summary>The L1 factor.</summary>
    public double L1Factor { get; }

    /// <summary>The L2 factor.</summary>
    public double L2Factor { get; }

    /// <inheritdoc />
    public override Tensor Compute(Tensor x)
    {
        var penalty = zeros([], dtype: x.dtype, device: x.device);
        if (L1Factor != 0)
            penalty = penalty + x.abs().sum() * L1Factor;
        if (L2Factor != 0)
            penalty = penalty + x.square().sum() * L2Factor;
        return penalty;
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig() => new() { ["l1"] = L1Factor, ["l2"] = L2Factor };
}
