namespace SeqSharp.Metrics;

/// <summary>
/// Keras's metric names and aliases (case-sensitive, as in Keras, except <c>"accuracy"</c> and
/// <c>"acc"</c>). Each factory receives the string the user gave, which becomes the metric's name.
/// </summary>
internal static class MetricRegistry
{
    private static readonly Dictionary<string, Func<string, Metric>> Factories = Build();

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static Metric Get(string name)
    {
        if (name is not null && name.ToLowerInvariant() is "accuracy" or "acc")
            return new AutoAccuracy(name);
        if (name is not null && Factories.TryGetValue(name, out var factory))
            return factory(name);
        throw new ArgumentException(
            $"Unknown metric: {(name is null ? "null" : $"'{name}'")}. Expected one of: accuracy, acc, {string.Join(", ", Factories.Keys.Order(StringComparer.Ordinal))}.",
            nameof(name));
    }

    private static Dictionary<string, Func<string, Metric>> Build()
    {
        var factories = new Dictionary<string, Func<string, Metric>>(StringComparer.Ordinal);
        void Add(Func<string, Metric> factory, params string[] names)
        {
            foreach (var n in names)
                factories.Add(n, factory);
        }
        Add(n => new MeanSquaredError(n), "mse", "MSE", "mean_squared_error", "MeanSquaredError");
        Add(n => new MeanAbsoluteError(n), "mae", "MAE", "mean_absolute_error", "MeanAbsoluteError");
        Add(n => new MeanAbsolutePercentageError(n), "mape", "MAPE", "mean_absolute_percentage_error", "MeanAbsolutePercentageError");
        Add(n => new MeanSquaredLogarithmicError(n), "msle", "MSLE", "mean_squared_logarithmic_error", "MeanSquaredLogarithmicError");
        Add(n => new RootMeanSquaredError(n), "rmse", "RMSE", "root_mean_squared_error", "RootMeanSquaredError");
        Add(n => new R2Score(name: n), "r2", "r2_score", "R2Score");
        Add(n => new BinaryAccuracy(name: n), "binary_accuracy", "BinaryAccuracy");
        Add(n => new CategoricalAccuracy(n), "categorical_accuracy", "CategoricalAccuracy");
        Add(n => new SparseCategoricalAccuracy(n), "sparse_categorical_accuracy", "SparseCategoricalAccuracy");
        Add(n => new TopKCategoricalAccuracy(name: n), "top_k_categorical_accuracy", "TopKCategoricalAccuracy");
        Add(n => new BinaryCrossentropy(name: n), "binary_crossentropy", "bce", "BCE", "BinaryCrossentropy");
        Add(n => new CategoricalCrossentropy(name: n), "categorical_crossentropy", "CategoricalCrossentropy");
        Add(n => new SparseCategoricalCrossentropy(name: n), "sparse_categorical_crossentropy", "SparseCategoricalCrossentropy");
        Add(n => new LogCoshError(n), "logcosh", "log_cosh", "log_cosh_error", "LogCoshError");
        // Keras 3 has no Huber metric class; "huber" is its loss function averaged like any metric function.
        Add(n => new MeanMetricWrapper(new Losses.Huber(name: n) { Subject = "Metric" }.Compute, n), "huber");
        Add(n => new Precision(name: n), "precision", "Precision");
        Add(n => new Recall(name: n), "recall", "Recall");
        Add(n => new AUC(name: n), "auc", "AUC");
        Add(n => new F1Score(name: n), "f1_score", "F1Score");
        Add(n => new FBetaScore(name: n), "f_beta_score", "FBetaScore");
        return factories;
    }
}
