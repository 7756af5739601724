namespace SeqSharp.Regularizers;

/// <summary>Keras's regularizer names (snake case and class names, case-sensitive as in Keras).</summary>
internal static class RegularizerRegistry
{
    private static readonly Dictionary<string, Func<Regularizer>> Factories = new(StringComparer.Ordinal)
    {
        ["l1"] = () => new L1(),
        ["L1"] = () => new L1(),
        ["l2"] = () => new L2(),
        ["L2"] = () => new L2(),
        // Keras documents 'l1_l2' as l1 = l2 = 0.01; its code instantiates L1L2() with zeros, a penalty of nothing.
        ["l1_l2"] = () => new L1L2(0.01, 0.01),
        ["L1L2"] = () => new L1L2(0.01, 0.01),
        ["orthogonal_regularizer"] = () => new OrthogonalRegularizer(),
        ["OrthogonalRegularizer"] = () => new OrthogonalRegularizer(),
    };

    public static Regularizer Get(string name)
    {
        if (name is not null && Factories.TryGetValue(name, out var factory))
            return factory();
        throw new ArgumentException(
            $"Unknown regularizer: {(name is null ? "null" : $"'{name}'")}. Expected one of: {string.Join(", ", Factories.Keys.Order(StringComparer.Ordinal))}.", nameof(name));
    }
}
