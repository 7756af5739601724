namespace SeqSharp.Losses;

/// <summary>Keras's loss names and aliases (case-sensitive, as in Keras).</summary>
internal static class LossRegistry
{
    private static readonly Dictionary<string, Func<Loss>> Factories = Build();

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static Loss Get(string name)
    {
        if (name is not null && Factories.TryGetValue(name, out var factory))
            return factory();
        throw new ArgumentException(
            $"Unknown loss: {(name is null ? "null" : $"'{name}'")}. Expected one of: {string.Join(", ", Factories.Keys.Order(StringComparer.Ordinal))}.",
            nameof(name));
    }

    private static Dictionary<string, Func<Loss>> Build()
    {
        var factories = new Dictionary<string, Func<Loss>>(StringComparer.Ordinal);
        void Add(Func<Loss> factory, params string[] names)
        {
            foreach (var n in names)
                factories.Add(n, factory);
        }
        Add(() => new MeanSquaredError(), "mse", "MSE", "mean_squared_error", "MeanSquaredError");
        Add(() => new MeanAbsoluteError(), "mae", "MAE", "mean_absolute_error", "MeanAbsoluteError");
        Add(() => new MeanAbsolutePercentageError(), "mape", "MAPE", "mean_absolute_percentage_error", "MeanAbsolutePercentageError");
        Add(() => new MeanSquaredLogarithmicError(), "msle", "MSLE", "mean_squared_logarithmic_error", "MeanSquaredLogarithmicError");
        Add(() => new Huber(), "huber", "huber_loss", "Huber");
        Add(() => new LogCosh(), "log_cosh", "logcosh", "LogCosh");
        Add(() => new BinaryCrossentropy(), "binary_crossentropy", "bce", "BCE", "BinaryCrossentropy");
        Add(() => new CategoricalCrossentropy(), "categorical_crossentropy", "CategoricalCrossentropy");
        Add(() => new SparseCategoricalCrossentropy(), "sparse_categorical_crossentropy", "SparseCategoricalCrossentropy");
        Add(() => new KLDivergence(), "kl_divergence", "kld", "KLD", "KLDivergence");
        Add(() => new Poisson(), "poisson", "Poisson");
        Add(() => new Hinge(), "hinge", "Hinge");
        Add(() => new SquaredHinge(), "squared_hinge", "SquaredHinge");
        Add(() => new CategoricalHinge(), "categorical_hinge", "CategoricalHinge");
        Add(() => new CosineSimilarity(), "cosine_similarity", "CosineSimilarity");
        return factories;
    }
}
