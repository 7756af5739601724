namespace SeqSharp.Layers;

/// <summary>Keras class names of the layers <see cref="Layer.FromConfig"/> can rebuild, with their factories.</summary>
internal static class LayerRegistry
{
    private static readonly Dictionary<string, Func<LayerConfig, Layer>> Factories = new(StringComparer.Ordinal)
    {
        ["InputLayer"] = InputLayer.FromConfig,
        ["Dense"] = Dense.FromConfig,
        ["SimpleRNN"] = SimpleRNN.FromConfig,
        ["LSTM"] = LSTM.FromConfig,
        ["GRU"] = GRU.FromConfig,
        ["Embedding"] = Embedding.FromConfig,
        ["Masking"] = Masking.FromConfig,
        ["Dropout"] = Dropout.FromConfig,
        ["SpatialDropout1D"] = SpatialDropout1D.FromConfig,
        ["GaussianNoise"] = GaussianNoise.FromConfig,
        ["Activation"] = Activation.FromConfig,
        ["RepeatVector"] = RepeatVector.FromConfig,
        ["Flatten"] = Flatten.FromConfig,
        ["Reshape"] = Reshape.FromConfig,
        ["Permute"] = Permute.FromConfig,
        ["LayerNormalization"] = LayerNormalization.FromConfig,
        ["BatchNormalization"] = BatchNormalization.FromConfig,
        ["Conv1D"] = Conv1D.FromConfig,
        ["MaxPooling1D"] = MaxPooling1D.FromConfig,
        ["AveragePooling1D"] = AveragePooling1D.FromConfig,
        ["GlobalAveragePooling1D"] = GlobalAveragePooling1D.FromConfig,
        ["GlobalMaxPooling1D"] = GlobalMaxPooling1D.FromConfig,
        ["TimeDistributed"] = TimeDistributed.FromConfig,
        ["Bidirectional"] = Bidirectional.FromConfig,
        ["Lambda"] = Lambda.FromConfig,
        ["Concatenate"] = Concatenate.FromConfig,
        ["Add"] = Add.FromConfig,
        ["Subtract"] = Subtract.FromConfig,
        ["Multiply"] = Multiply.FromConfig,
        ["Average"] = Average.FromConfig,
        ["Maximum"] = Maximum.FromConfig,
        ["Minimum"] = Minimum.FromConfig,
        ["Dot"] = Dot.FromConfig,
        ["Attention"] = Attention.FromConfig,
        ["AdditiveAttention"] = AdditiveAttention.FromConfig,
        ["MultiHeadAttention"] = MultiHeadAttention.FromConfig,
    };

    /// <summary>The class names, sorted.</summary>
    public static IReadOnlyList<string> Names => [.. Factories.Keys.Order(StringComparer.Ordinal)];

    public static Layer Create(LayerConfig config) =>
        Factories.TryGetValue(config.ClassName, out var factory)
            ? factory(config)
            : throw new ArgumentException(
                $"Unknown layer class '{config.ClassName}'. Expected one of: {string.Join(", ", Names)}.", "className");
}
