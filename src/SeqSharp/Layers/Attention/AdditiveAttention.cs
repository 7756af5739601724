using SeqSharp.Initializers;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Additive attention, Bahdanau style (Keras <c>AdditiveAttention</c>): scores
/// <c>s[i, j] = Σ scale · tanh(q[i] + k[j])</c>, then <c>softmax</c> over the value steps and a
/// weighted sum of the values, as <see cref="Attention"/>.
/// </summary>
/// <remarks>
/// <para>Inputs, outputs, call arguments (<c>use_causal_mask</c>, <c>return_attention_scores</c>),
/// masks and dropout are those of <see cref="Attention"/>. With <see cref="Attention.UseScale"/>
/// (the default) <c>scale</c> is a learned vector of the query's feature size, Glorot-uniform
/// initialised; without it, 1.</para>
/// <para>Weights (Keras order): <c>scale (dim)</c> with <see cref="Attention.UseScale"/>.</para>
/// </remarks>
/// <example>
/// <code>
/// var context = new AdditiveAttention().Call([decoderStates, encoderStates]);
/// </code>
/// </example>
public sealed class AdditiveAttention : Attention
{
    /// <summary>Creates the layer.</summary>
    /// <param name="useScale">Whether to learn the scale vector (default true).</param>
    /// <param name="dropout">Fraction of the attention weights dropped in training, in [0, 1).</param>
    /// <param name="seed">Seed of the dropout's own random generator; null for the global one.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dropout"/> outside [0, 1).</exception>
    public AdditiveAttention(bool useScale = true, double dropout = 0.0, long? seed = null, string? name = null, ScalarType? dtype = null)
        : base(useScale, "dot", dropout, seed, name, dtype)
    {
    }

    /// <inheritdoc />
    protected override void BuildCore(IReadOnlyList<long[]> sampleShapes)
    {
        if (UseScale)
            Scale = AddWeight("scale", [sampleShapes[0][^1]], new GlorotUniform());
    }

    private protected override Tensor CalculateScores(Tensor query, Tensor key)
    {
        var tanh = (query.unsqueeze(-2) + key.unsqueeze(-3)).tanh();
        return (Scale is null ? tanh : Scale * tanh).sum(-1);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config.Remove("score_mode");
        return config;
    }

    internal static new AdditiveAttention FromConfig(LayerConfig c) =>
        new(c.Bool("use_scale", true), c.Double("dropout", 0.0), c.OptionalLong("seed"), c.Name, c.DType);
}
