using static TorchSharp.torch;

namespace SeqSharp.Constraints;

/// <summary>Sets negative weights to zero (Keras <c>keras.constraints.NonNeg</c>).</summary>
/// <example>
/// <code>
/// model.Add(new Dense(1, kernelConstraint: "non_neg"));
/// </code>
/// </example>
public sealed class NonNeg : Constraint
{
    /// <inheritdoc />
    public override Tensor Apply(Tensor w) => w.clamp_min(0);
}
