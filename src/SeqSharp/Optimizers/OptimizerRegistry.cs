namespace SeqSharp.Optimizers;

/// <summary>Keras's optimizer names; lookups ignore case, as Keras's <c>optimizers.get</c> does.</summary>
internal static class OptimizerRegistry
{
    private static readonly Dictionary<string, Func<Optimizer>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["adadelta"] = () => new Adadelta(),
        ["adagrad"] = () => new Adagrad(),
        ["adam"] = () => new Adam(),
        ["adamw"] = () => new AdamW(),
        ["adamax"] = () => new Adamax(),
        ["ftrl"] = () => new Ftrl(),
        ["lion"] = () => new Lion(),
        ["nadam"] = () => new Nadam(),
        ["rmsprop"] = () => new RMSprop(),
        ["sgd"] = () => new SGD(),
    };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static Optimizer Get(string name)
    {
        if (name is not null && Factories.TryGetValue(name, out var factory))
            return factory();
        throw new ArgumentException(
            $"Unknown optimizer: '{name}'. Expected one of: {string.Join(", ", Factories.Keys.Order(StringComparer.Ordinal))}.", nameof(name));
    }
}
