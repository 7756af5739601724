namespace SeqSharp.Metrics;

/// <summary>
/// The F1 score, the harmonic mean of precision and recall: <see cref="FBetaScore"/> with β = 1
/// (Keras 3 <c>keras.metrics.F1Score</c>).
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "categorical_crossentropy", metrics: [new F1Score(average: "macro")]);
/// </code>
/// </example>
public sealed class F1Score : FBetaScore
{
    /// <summary>Creates the metric.</summary>
    /// <param name="average">null (per class), <c>"micro"</c>, <c>"macro"</c> or <c>"weighted"</c>.</param>
    /// <param name="threshold">In (0, 1]; null for the row maximum.</param>
    /// <param name="name">Default <c>"f1_score"</c>.</param>
    /// <exception cref="ArgumentException">An unknown average.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside (0, 1].</exception>
    public F1Score(string? average = null, double? threshold = null, string? name = null)
        : base(average, 1.0, threshold, name ?? "f1_score") { }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config.Remove("beta");
        return config;
    }
}
