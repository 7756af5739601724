namespace SeqSharp.Initializers;

/// <summary>Keras's initializer names.</summary>
internal static class InitializerRegistry
{
    private static readonly Dictionary<string, Func<Initializer>> Factories = new(StringComparer.Ordinal)
    {
        ["glorot_uniform"] = () => new GlorotUniform(),
        ["glorot_normal"] = () => new GlorotNormal(),
        ["he_uniform"] = () => new HeUniform(),
        ["he_normal"] = () => new HeNormal(),
        ["lecun_uniform"] = () => new LecunUniform(),
        ["lecun_normal"] = () => new LecunNormal(),
        ["orthogonal"] = () => new Orthogonal(),
        ["zeros"] = () => new Zeros(),
        ["ones"] = () => new Ones(),
        ["random_uniform"] = () => new RandomUniform(),
        ["random_normal"] = () => new RandomNormal(),
    };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static Initializer Get(string name)
    {
        if (name is not null && Factories.TryGetValue(name, out var factory))
            return factory();
        throw new ArgumentException(
            $"Unknown initializer: '{name}'. Expected one of: {string.Join(", ", Factories.Keys.Order(StringComparer.Ordinal))}.", nameof(name));
    }
}
