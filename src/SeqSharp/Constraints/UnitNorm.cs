using static TorchSharp.torch;

namespace SeqSharp.Constraints;

/// <summary>
/// Scales the weight vectors along <see cref="Axis"/> to unit L2 norm (Keras
/// <c>keras.constraints.UnitNorm</c>): <c>w / (1e-7 + n)</c>.
/// </summary>
/// <example>
/// <code>
/// model.Add(new Dense(8, kernelConstraint: new UnitNorm()));
/// </code>
/// </example>
public sealed class UnitNorm : Constraint
{
    /// <summary>Creates the constraint.</summary>
    /// <param name="axis">The axes the norm runs over. Default 0.</param>
    public UnitNorm(long[]? axis = null)
    {
        Axis = axis ?? [0];
    }

    /// <summary>The axes the norm runs over.</summary>
    public long[] Axis { get; }

    /// <inheritdoc />
    public override Tensor Apply(Tensor w) => w / (Norms(w, Axis) + Losses.LossInputs.Epsilon);

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig() => new() { ["axis"] = AxisConfig.Write(Axis) };
}
