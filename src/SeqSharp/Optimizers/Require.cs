namespace SeqSharp.Optimizers;

/// <summary>Argument checks shared by the optimizers and schedules; messages name the argument and the value received.</summary>
internal static class Require
{
    /// <summary>A finite value ≥ 0.</summary>
    public static double NonNegative(double value, string name) =>
        double.IsFinite(value) && value >= 0
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"Expected a finite, non-negative value for {name}. Received: {name}={value}.");

    /// <summary>A finite value &gt; 0, or null.</summary>
    public static double? PositiveOrNull(double? value, string name) =>
        value is not double v || (double.IsFinite(v) && v > 0)
            ? value
            : throw new ArgumentOutOfRangeException(name, v, $"Expected a finite, positive value (or null) for {name}. Received: {name}={v}.");

    /// <summary>A value in [0, 1) or, with <paramref name="includeOne"/>, [0, 1].</summary>
    public static double Fraction(double value, string name, bool includeOne) =>
        value >= 0 && (includeOne ? value <= 1 : value < 1)
            ? value
            : throw new ArgumentOutOfRangeException(name, value,
                $"Expected a value in [0, 1{(includeOne ? "]" : ")")} for {name}. Received: {name}={value}.");

    /// <summary>A step count &gt; 0.</summary>
    public static long PositiveSteps(long value, string name) =>
        value > 0
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"Expected a positive integer for {name}. Received: {name}={value}.");

    /// <summary>An optimizer step index ≥ 0.</summary>
    public static long Step(long step) =>
        step >= 0
            ? step
            : throw new ArgumentOutOfRangeException(nameof(step), step, $"Expected a non-negative optimizer step. Received: step={step}.");
}
