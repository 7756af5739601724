namespace SeqSharp.Constraints;

/// <summary>Keras's constraint names (snake case and class names).</summary>
internal static class ConstraintRegistry
{
    private static readonly Dictionary<string, Func<Constraint>> Factories = new(StringComparer.Ordinal)
    {
        ["max_norm"] = () => new MaxNorm(),
        ["MaxNorm"] = () => new MaxNorm(),
        ["min_max_norm"] = () => new MinMaxNorm(),
        ["MinMaxNorm"] = () => new MinMaxNorm(),
        ["non_neg"] = () => new NonNeg(),
        ["NonNeg"] = () => new NonNeg(),
        ["unit_norm"] = () => new UnitNorm(),
        ["UnitNorm"] = () => new UnitNorm(),
    };

    public static Constraint Get(string name)
    {
        if (name is not null && Factories.TryGetValue(name, out var factory))
            return factory();
        throw new ArgumentException(
            $"Unknown constraint: {(name is null ? "null" : $"'{name}'")}. Expected one of: {string.Join(", ", Factories.Keys.Order(StringComparer.Ordinal))}.", nameof(name));
    }
}
