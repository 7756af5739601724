using SeqSharp.Initializers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Dot-product attention, Luong style (Keras <c>Attention</c>): each query step takes a softmax-weighted
/// sum of the value steps, weighted by how well the query matches each key.
/// </summary>
/// <remarks>
/// <para>Inputs: <c>[query (batch, Tq, dim), value (batch, Tv, dimV)]</c> or
/// <c>[query, value, key (batch, Tv, dim)]</c>; without a key the value is the key. Output
/// <c>(batch, Tq, dimV)</c>; with the call argument <c>return_attention_scores</c> a second output,
/// the attention distribution <c>(batch, Tq, Tv)</c> (after masking, softmax and dropout, as Keras).</para>
/// <para>Scores: <c>"dot"</c>: <c>s = scale · q·kᵀ</c>; <c>"concat"</c>:
/// <c>s[i, j] = w · Σ tanh(scale · (q[i] + k[j]))</c>, where <c>scale</c> (with <see cref="UseScale"/>)
/// and <c>w</c> (<c>concat_score_weight</c>, with <c>"concat"</c>) are learned scalars that start at 1.
/// Then <c>a = softmax(s)</c> over the value steps and <c>output = a·v</c>.</para>
/// <para>Masks (Keras 3): the value's mask removes key steps (their scores are lowered by 10⁹
/// before the softmax); <c>use_causal_mask</c> also keeps step <c>i</c> from attending to steps
/// <c>j &gt; i</c>; the query's mask zeroes the output's masked steps and is the output's mask.
/// A key's own mask is not used (Keras uses the value's).</para>
/// <para>Weights (Keras order): <c>scale ()</c> with <see cref="UseScale"/>, then
/// <c>concat_score_weight ()</c> with <c>"concat"</c>. <see cref="Dropout"/> drops attention
/// weights in training mode only.</para>
/// </remarks>
/// <example>
/// <code>
/// var context = new Attention().Call([decoderStates, encoderStates]);   // (batch, Tq, units)
/// var (outputs, _) = new Attention(useScale: true).CallWithMasks([q, v], null,
///     new Dictionary&lt;string, object?&gt; { ["return_attention_scores"] = true, ["use_causal_mask"] = true });
/// </code>
/// </example>
public class Attention : MultiInputLayer
{
    private const string CausalArg = "use_causal_mask";
    private const string ScoresArg = "return_attention_scores";
    private readonly LayerRandom _random;

    /// <summary>Creates the layer.</summary>
    /// <param name="useScale">Whether to learn a scalar that scales the scores (starts at 1).</param>
    /// <param name="scoreMode"><c>"dot"</c> (default) or <c>"concat"</c> (tanh of the sum of query and key).</param>
    /// <param name="dropout">Fraction of the attention weights dropped in training, in [0, 1).</param>
    /// <param name="seed">Seed of the dropout's own random generator; null for the global one.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentException">An unknown <paramref name="scoreMode"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dropout"/> outside [0, 1).</exception>
    public Attention(bool useScale = false, string scoreMode = "dot", double dropout = 0.0, long? seed = null, string? name = null, ScalarType? dtype = null)
        : base(name, dtype)
    {
        if (scoreMode is not ("dot" or "concat"))
            throw new ArgumentException($"Invalid value for argument scoreMode. Expected one of \"dot\", \"concat\". Received: scoreMode=\"{scoreMode}\".", nameof(scoreMode));
        if (!(dropout >= 0 && dropout < 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, $"Expected a dropout rate in [0, 1). Received: dropout={dropout}.");
        UseScale = useScale;
        ScoreMode = scoreMode;
        Dropout = dropout;
        _random = new LayerRandom(seed);
    }

    /// <summary>Whether a learned scale multiplies the scores.</summary>
    public bool UseScale { get; }

    /// <summary><c>"dot"</c> or <c>"concat"</c>.</summary>
    public string ScoreMode { get; }

    /// <summary>Fraction of the attention weights dropped in training.</summary>
    public double Dropout { get; }

    /// <summary>The dropout seed, or null.</summary>
    public long? Seed => _random.Seed;

    /// <summary>The learned scale, or null (before building, or without <see cref="UseScale"/>).</summary>
    public Parameter? Scale { get; private protected set; }

    /// <summary>The learned <c>concat_score_weight</c>, or null (before building, or with <c>"dot"</c> scores).</summary>
    public Parameter? ConcatScoreWeight { get; private set; }

    /// <summary>Two: query and value.</summary>
    public override int MinInputs => 2;

    /// <summary>Three: query, value and key.</summary>
    public override int? MaxInputs => 3;

    /// <inheritdoc />
    protected override void BuildCore(IReadOnlyList<long[]> sampleShapes)
    {
        if (UseScale)
            Scale = AddWeight("scale", [], new Ones());
        if (ScoreMode == "concat")
            ConcatScoreWeight = AddWeight("concat_score_weight", [], new Ones());
    }

    /// <summary>
    /// Inputs of rank 3, <c>(batch, steps, features)</c>; query and key of the same feature size;
    /// value and key of the same number of steps.
    /// </summary>
    protected override void CheckShapes(IReadOnlyList<long[]> sampleShapes)
    {
        string received = $"Received shapes {string.Join(", ", sampleShapes.Select(ShapeText.WithBatch))} for [query, value{(sampleShapes.Count > 2 ? ", key" : "")}].";
        if (sampleShapes.Any(s => s.Length != 2))
            throw new ArgumentException($"Layer '{Name}' ({ClassName}) expects inputs of rank 3, (batch, steps, features). {received}");
        var (query, value) = (sampleShapes[0], sampleShapes[1]);
        var key = sampleShapes.Count > 2 ? sampleShapes[2] : value;
        if (!Fits(query[1], key[1]))
            throw new ArgumentException($"Layer '{Name}' ({ClassName}) expects the query and the key to have the same feature size. {received}");
        if (!Fits(value[0], key[0]))
            throw new ArgumentException($"Layer '{Name}' ({ClassName}) expects the value and the key to have the same number of steps. {received}");
    }

    private static bool Fits(long a, long b) => a == b || a == -1 || b == -1;

    /// <summary>The output sample shape, <c>(Tq, dimV)</c>.</summary>
    public override long[] ComputeOutputShape(IReadOnlyList<long[]> sampleShapes) => [sampleShapes[0][0], sampleShapes[1][^1]];

    /// <summary>The output and, with <c>return_attention_scores</c>, the scores <c>(Tq, Tv)</c>.</summary>
    public override IReadOnlyList<long[]> ComputeOutputShapes(IReadOnlyList<long[]> sampleShapes, IReadOnlyDictionary<string, object?> callArgs)
    {
        CallArguments.Check(this, callArgs, CausalArg, ScoresArg);
        var output = ComputeOutputShape(sampleShapes);
        return CallArguments.Bool(this, callArgs, ScoresArg) ? [output, [sampleShapes[0][0], sampleShapes[1][0]]] : [output];
    }

    /// <summary>The raw scores <c>(batch, Tq, Tv)</c> of a query <c>(batch, Tq, dim)</c> and a key <c>(batch, Tv, dim)</c>.</summary>
    private protected virtual Tensor CalculateScores(Tensor query, Tensor key)
    {
        if (ScoreMode == "dot")
        {
            var scores = query.matmul(key.transpose(-2, -1));
            return Scale is null ? scores : scores * Scale;
        }
        var sum = query.unsqueeze(-2) + key.unsqueeze(-3);
        return ConcatScoreWeight! * (Scale is null ? sum : Scale * sum).tanh().sum(-1);
    }

    /// <inheritdoc />
    protected override IReadOnlyList<Tensor> ForwardMulti(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, IReadOnlyDictionary<string, object?> callArgs)
    {
        CallArguments.Check(this, callArgs, CausalArg, ScoresArg);
        bool causal = CallArguments.Bool(this, callArgs, CausalArg);
        bool returnScores = CallArguments.Bool(this, callArgs, ScoresArg);
        var (query, value) = (inputs[0], inputs[1]);
        var key = inputs.Count > 2 ? inputs[2] : value;
        var (queryMask, valueMask) = (masks[0], masks[1]);

        var scores = CalculateScores(query, key);
        Tensor? scoresMask = valueMask?.unsqueeze(-2);                       // (batch, 1, Tv)
        if (causal)
        {
            var lower = ones(scores.shape[^2], scores.shape[^1], ScalarType.Bool).tril().unsqueeze(0);   // (1, Tq, Tv): j <= i
            scoresMask = scoresMask is null ? lower : scoresMask.logical_and(lower);
        }
        if (scoresMask is not null)
            scores = where(scoresMask, scores, scores - 1e9);
        var weights = scores.softmax(-1);
        if (training && Dropout > 0)
            weights = weights * _random.DropoutMask(weights.shape, Dropout, weights.dtype);
        var output = weights.matmul(value);
        if (queryMask is not null)
            output = where(queryMask.unsqueeze(-1), output, zeros_like(output));
        return returnScores ? [output, weights] : [output];
    }

    /// <summary>The query's mask (Keras 3), or null.</summary>
    protected override Tensor? ComputeMask(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, IReadOnlyDictionary<string, object?> callArgs) => masks[0];

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["use_scale"] = UseScale;
        config["score_mode"] = ScoreMode;
        config["dropout"] = Dropout;
        config["seed"] = Seed;
        return config;
    }

    internal static Attention FromConfig(LayerConfig c) =>
        new(c.Bool("use_scale", false), c.String("score_mode", "dot"), c.Double("dropout", 0.0), c.OptionalLong("seed"), c.Name, c.DType);
}
