using static TorchSharp.torch;

namespace SeqSharp.Constraints;

/// <summary>
/// Keeps the L2 norm of the weight vectors along <see cref="Axis"/> between two bounds (Keras
/// <c>keras.constraints.MinMaxNorm</c>): <c>w · (rate · clip(n, min, max) + (1 - rate) n) / (1e-7 + n)</c>.
/// </summary>
/// <example>
/// <code>
/// model.Add(new Dense(64, kernelConstraint: new MinMaxNorm(minValue: 0.5, maxValue: 1.0)));
/// </code>
/// </example>
public sealed class MinMaxNorm : Constraint
{
    /// <summary>Creates the constraint.</summary>
    /// <param name="minValue">The smallest norm. Default 0.</param>
    /// <param name="maxValue">The largest norm. Default 1.</param>
    /// <param name="rate">How far to move towards the bounds at each step, 1 for all the way. Default 1.</param>
    /// <param name="axis">The axes the norm runs over. Default 0.</param>
    public MinMaxNorm(double minValue = 0.0, double maxValue = 1.0, double rate = 1.0, long[]? axis = null)
    {
        MinValue = minValue;
        MaxValue = maxValue;
        Rate = rate;
        Axis = axis ?? [0];
    }

    /// <summary>The smallest norm.</summary>
    public double MinValue { get; }

    /// <summary>The largest norm.</summary>
    public double MaxValue { get; }

    /// <summary>How far to move towards the bounds.</summary>
    public double Rate { get; }

    /// <summary>The axes the norm runs over.</summary>
    public long[] Axis { get; }

    /// <inheritdoc />
    public override Tensor Apply(Tensor w)
    {
        var norms = Norms(w, Axis);
        var desired = norms.clamp(MinValue, MaxValue) * Rate + norms * (1 - Rate);
        return w * (desired / (norms + Losses.LossInputs.Epsilon));
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig() => new()
    {
        ["min_value"] = MinValue,
        ["max_value"] = MaxValue,
        ["rate"] = Rate,
        ["axis"] = AxisConfig.Write(Axis),
    };
}
