using static TorchSharp.torch;

namespace SeqSharp.Constraints;

/// <summary>
/// Caps the L2 norm of the weight vectors along <see cref="Axis"/> (Keras <c>keras.constraints.MaxNorm</c>):
/// <c>w · clip(n, 0, maxValue) / (1e-7 + n)</c>. For a Dense kernel <c>(in, units)</c>, axis 0 caps each unit's incoming weights.
/// </summary>
/// <example>
/// <code>
/// model.Add(new Dense(64, kernelConstraint: new MaxNorm(3)));
/// </code>
/// </example>
public sealed class MaxNorm : Constraint
{
    /// <summary>Creates the constraint.</summary>
    /// <param name="maxValue">The largest norm. Default 2.</param>
    /// <param name="axis">The axes the norm runs over. Default 0.</param>
    public MaxNorm(double maxValue = 2, long[]? axis = null)
    {
        MaxValue = maxValue;
        Axis = axis ?? [0];
    }

    /// <summary>The largest norm.</summary>
    public double MaxValue { get; }

    /// <summary>The axes the norm runs over.</summary>
    public long[] Axis { get; }

    /// <inheritdoc />
    public override Tensor Apply(Tensor w)
    {
        var norms = Norms(w, Axis);
        return w * (norms.clamp(0, MaxValue) / (norms + Losses.LossInputs.Epsilon));
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig() => new() { ["max_value"] = MaxValue, ["axis"] = AxisConfig.Write(Axis) };
}
