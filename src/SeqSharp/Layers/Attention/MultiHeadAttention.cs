using SeqSharp.Initializers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Multi-head attention (Keras <c>MultiHeadAttention</c>, Vaswani et al. 2017): the query, key and
/// value are projected into <see cref="NumHeads"/> heads, each head attends with scaled dot-product
/// attention, and the heads' outputs are projected back.
/// </summary>
/// <remarks>
/// <para>Inputs, in Keras's order: <c>[query (batch, T, dimQ), value (batch, S, dimV)]</c> or
/// <c>[query, value, key (batch, S, dimK)]</c>; without a key the value is the key. Self-attention
/// is <c>Call([x, x])</c>. Output <c>(batch, T, dimQ)</c>, or <c>(batch, T, outputShape...)</c>.</para>
/// <para>With <c>H = keyDim</c>, for each head <c>n</c>:
/// <c>Q = query·Wq[:, n] + bq[n]</c>, <c>K = key·Wk[:, n] + bk[n]</c>, <c>V = value·Wv[:, n] + bv[n]</c>,
/// <c>A = softmax(Q·Kᵀ / √H)</c> over the key steps (masked, see below), then
/// <c>O[t] = Σₙ (A·V)[t]·Wo[n] + bo</c>. <see cref="Dropout"/> acts on <c>A</c> in training mode only.</para>
/// <para>Call arguments (Keras names, in <c>callArgs</c>): <c>use_causal_mask</c>;
/// <c>return_attention_scores</c>, a second output <c>A</c> of shape <c>(batch, heads, T, S)</c>
/// (before dropout, as Keras); <c>attention_mask</c>, a tensor <c>(batch, T, S)</c> (nonzero or true
/// = may attend). Masks (Keras 3): the query's mask <c>(batch, T, 1)</c>, the value's and the key's
/// <c>(batch, 1, S)</c>, the causal mask (step <c>t</c> attends to <c>s ≤ t</c>) and
/// <c>attention_mask</c> are ANDed; masked scores are set to −10⁹ before the softmax and the
/// weights of masked positions to 0 after it (a query step with nothing to attend to gets zero
/// weights, so its output is the output bias). The output's mask is the query's.</para>
/// <para>Weights (Keras order and shapes): <c>query/kernel (dimQ, heads, keyDim)</c>,
/// <c>query/bias (heads, keyDim)</c>, <c>key/kernel (dimK, heads, keyDim)</c>, <c>key/bias</c>,
/// <c>value/kernel (dimV, heads, valueDim)</c>, <c>value/bias (heads, valueDim)</c>,
/// <c>attention_output/kernel (heads, valueDim, out...)</c>, <c>attention_output/bias (out...)</c>;
/// no biases with <c>useBias: false</c>. Kernels are initialised with the fans of their projection
/// (<c>fan_in = dimQ</c>, <c>fan_out = heads·keyDim</c> for the query), as Keras since 3.15.</para>
/// </remarks>
/// <example>
/// <code>
/// var mha = new MultiHeadAttention(numHeads: 4, keyDim: 16);
/// var y = mha.Call([x, x]);   // self-attention, (batch, T, features)
/// var (outputs, _) = mha.CallWithMasks([x, x], null,
///     new Dictionary&lt;string, object?&gt; { ["use_causal_mask"] = true, ["return_attention_scores"] = true });
/// Tensor scores = outputs[1];   // (batch, 4, T, T)
/// </code>
/// </example>
public sealed class MultiHeadAttention : MultiInputLayer
{
    private const string CausalArg = "use_causal_mask";
    private const string ScoresArg = "return_attention_scores";
    private const string MaskArg = "attention_mask";
    private static readonly string[] KnownArgs = [CausalArg, ScoresArg, MaskArg, "query_mask", "value_mask", "key_mask"];
    private readonly LayerRandom _random;
    private readonly long[]? _outputShape;
    private readonly int[]? _attentionAxes;
    private Parameter? _queryKernel, _queryBias, _keyKernel, _keyBias, _valueKernel, _valueBias, _outputKernel, _outputBias;

    /// <summary>Creates the layer.</summary>
    /// <param name="numHeads">Number of attention heads, positive.</param>
    /// <param name="keyDim">Size of each head for query and key, positive.</param>
    /// <param name="valueDim">Size of each head for the value; null for <paramref name="keyDim"/>.</param>
    /// <param name="dropout">Fraction of the attention weights dropped in training, in [0, 1).</param>
    /// <param name="useBias">Whether the four projections have biases.</param>
    /// <param name="outputShape">The output's last axes (one or more sizes); null for the query's feature size.</param>
    /// <param name="attentionAxes">The axes attended over; only the time axis (null, <c>[1]</c> or <c>[-2]</c>) is supported.</param>
    /// <param name="kernelInitializer">Default <c>"glorot_uniform"</c>.</param>
    /// <param name="biasInitializer">Default <c>"zeros"</c>.</param>
    /// <param name="seed">Seed of the dropout's own random generator; null for the global one.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive size, or a dropout rate outside [0, 1).</exception>
    /// <exception cref="NotSupportedException">Attention over axes other than the time axis.</exception>
    public MultiHeadAttention(int numHeads, int keyDim, int? valueDim = null, double dropout = 0.0, bool useBias = true,
        long[]? outputShape = null, int[]? attentionAxes = null, Initializer? kernelInitializer = null, Initializer? biasInitializer = null,
        long? seed = null, string? name = null, ScalarType? dtype = null)
        : base(name, dtype)
    {
        if (numHeads <= 0)
            throw new ArgumentOutOfRangeException(nameof(numHeads), numHeads, $"Expected a positive integer for numHeads. Received: numHeads={numHeads}.");
        if (keyDim <= 0)
            throw new ArgumentOutOfRangeException(nameof(keyDim), keyDim, $"Expected a positive integer for keyDim. Received: keyDim={keyDim}.");
        if (valueDim is <= 0)
            throw new ArgumentOutOfRangeException(nameof(valueDim), valueDim, $"Expected a positive integer or null for valueDim. Received: valueDim={valueDim}.");
        if (!(dropout >= 0 && dropout < 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, $"Expected a dropout rate in [0, 1). Received: dropout={dropout}.");
        if (outputShape is not null && (outputShape.Length == 0 || outputShape.Any(d => d <= 0)))
            throw new ArgumentOutOfRangeException(nameof(outputShape), $"Expected positive output sizes. Received: outputShape={ShapeText.Format(outputShape)}.");
        if (attentionAxes is not null && !(attentionAxes is [1] or [-2]))
            throw new NotSupportedException(
                $"SeqSharp's MultiHeadAttention attends over the time axis of (batch, steps, features) inputs only: attentionAxes null, [1] or [-2]. Received: attentionAxes=[{string.Join(", ", attentionAxes)}].");
        NumHeads = numHeads;
        KeyDim = keyDim;
        ValueDim = valueDim ?? keyDim;
        Dropout = dropout;
        UseBias = useBias;
        _outputShape = outputShape?.ToArray();
        _attentionAxes = attentionAxes?.ToArray();
        KernelInitializer = kernelInitializer ?? new GlorotUniform();
        BiasInitializer = biasInitializer ?? new Zeros();
        _random = new LayerRandom(seed);
    }

    /// <summary>Number of heads.</summary>
    public int NumHeads { get; }

    /// <summary>Size of each query and key head.</summary>
    public int KeyDim { get; }

    /// <summary>Size of each value head.</summary>
    public int ValueDim { get; }

    /// <summary>Fraction of the attention weights dropped in training.</summary>
    public double Dropout { get; }

    /// <summary>Whether the projections have biases.</summary>
    public bool UseBias { get; }

    /// <summary>The output's last axes as given (Keras <c>output_shape</c>), or null for the query's feature size.</summary>
    public IReadOnlyList<long>? OutputProjectionShape => _outputShape;

    /// <summary>Initializer of the four kernels.</summary>
    public Initializer KernelInitializer { get; }

    /// <summary>Initializer of the four biases.</summary>
    public Initializer BiasInitializer { get; }

    /// <summary>The dropout seed, or null.</summary>
    public long? Seed => _random.Seed;

    /// <summary>Three: query, value and key.</summary>
    public override int? MaxInputs => 3;

    /// <inheritdoc />
    protected override void BuildCore(IReadOnlyList<long[]> sampleShapes)
    {
        long dimQ = sampleShapes[0][^1], dimV = sampleShapes[1][^1], dimK = sampleShapes.Count > 2 ? sampleShapes[2][^1] : dimV;
        long[] output = _outputShape ?? [dimQ];
        long outputSize = output.Aggregate(1L, (a, b) => a * b);
        (_queryKernel, _queryBias) = Projection("query", [dimQ, NumHeads, KeyDim], [dimQ, NumHeads * KeyDim], [NumHeads, KeyDim]);
        (_keyKernel, _keyBias) = Projection("key", [dimK, NumHeads, KeyDim], [dimK, NumHeads * KeyDim], [NumHeads, KeyDim]);
        (_valueKernel, _valueBias) = Projection("value", [dimV, NumHeads, ValueDim], [dimV, NumHeads * ValueDim], [NumHeads, ValueDim]);
        (_outputKernel, _outputBias) = Projection("attention_output", [NumHeads, ValueDim, .. output], [NumHeads * ValueDim, outputSize], output);
    }

    private (Parameter Kernel, Parameter? Bias) Projection(string name, long[] kernelShape, long[] fans, long[] biasShape) =>
        (AddWeight(name + "_kernel", kernelShape, new ProjectionInitializer(KernelInitializer, fans)),
         UseBias ? AddWeight(name + "_bias", biasShape, BiasInitializer) : null);

    /// <summary>
    /// Where Keras 3 saves the projections' variables, in the order its weights file has them: each
    /// <c>EinsumDense</c> sublayer under its public attribute (<c>layers/multi_head_attention/query_dense/vars</c>
    /// holds the query kernel and bias), the attributes in alphabetical order; empty before building.
    /// </summary>
    internal IReadOnlyList<(string Attribute, string Name, IReadOnlyList<Parameter> Variables)> SavedSublayers()
    {
        if (_queryKernel is null)
            return [];
        IReadOnlyList<Parameter> Vars(Parameter kernel, Parameter? bias) => bias is null ? [kernel] : [kernel, bias];
        return
        [
            ("key_dense", "key", Vars(_keyKernel!, _keyBias)),
            ("output_dense", "attention_output", Vars(_outputKernel!, _outputBias)),
            ("query_dense", "query", Vars(_queryKernel, _queryBias)),
            ("value_dense", "value", Vars(_valueKernel!, _valueBias)),
        ];
    }

    /// <summary>Initialises an einsum kernel as the 2-D matrix of its projection, so that fans are <c>(inputs, outputs)</c>.</summary>
    private sealed class ProjectionInitializer(Initializer inner, long[] matrixShape) : Initializer
    {
        public override Tensor Create(long[] shape, ScalarType dtype) => inner.Create(matrixShape, dtype).reshape(shape);
    }

    /// <summary>
    /// Inputs of rank 3, <c>(batch, steps, features)</c>; value and key of the same number of steps;
    /// once built, the feature sizes the weights were made for.
    /// </summary>
    protected override void CheckShapes(IReadOnlyList<long[]> sampleShapes)
    {
        string received = $"Received shapes {string.Join(", ", sampleShapes.Select(ShapeText.WithBatch))} for [query, value{(sampleShapes.Count > 2 ? ", key" : "")}].";
        if (sampleShapes.Any(s => s.Length != 2))
            throw new ArgumentException($"Layer '{Name}' (MultiHeadAttention) expects inputs of rank 3, (batch, steps, features). {received}");
        var key = sampleShapes.Count > 2 ? sampleShapes[2] : sampleShapes[1];
        if (sampleShapes[1][0] != key[0] && sampleShapes[1][0] != -1 && key[0] != -1)
            throw new ArgumentException($"Layer '{Name}' (MultiHeadAttention) expects the value and the key to have the same number of steps. {received}");
        if (_queryKernel is null)
            return;
        long[] built = [_queryKernel.shape[0], _valueKernel!.shape[0], _keyKernel!.shape[0]];
        long[] given = [sampleShapes[0][^1], sampleShapes[1][^1], key[^1]];
        if (!built.SequenceEqual(given))
            throw new ArgumentException(
                $"Layer '{Name}' (MultiHeadAttention) was built for feature sizes query {built[0]}, value {built[1]}, key {built[2]}. {received}");
    }

    /// <summary>The output sample shape: <c>(T, dimQ)</c>, or <c>(T, outputShape...)</c>.</summary>
    public override long[] ComputeOutputShape(IReadOnlyList<long[]> sampleShapes) => [sampleShapes[0][0], .. _outputShape ?? [sampleShapes[0][^1]]];

    /// <summary>The output and, with <c>return_attention_scores</c>, the scores <c>(heads, T, S)</c>.</summary>
    public override IReadOnlyList<long[]> ComputeOutputShapes(IReadOnlyList<long[]> sampleShapes, IReadOnlyDictionary<string, object?> callArgs)
    {
        CallArguments.Check(this, callArgs, KnownArgs);
        var output = ComputeOutputShape(sampleShapes);
        return CallArguments.Bool(this, callArgs, ScoresArg) ? [output, [NumHeads, sampleShapes[0][0], sampleShapes[1][0]]] : [output];
    }

    /// <inheritdoc />
    protected override IReadOnlyList<Tensor> ForwardMulti(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, IReadOnlyDictionary<string, object?> callArgs)
    {
        CallArguments.Check(this, callArgs, KnownArgs);
        bool causal = CallArguments.Bool(this, callArgs, CausalArg);
        bool returnScores = CallArguments.Bool(this, callArgs, ScoresArg);
        var (query, value) = (inputs[0], inputs[1]);
        var key = inputs.Count > 2 ? inputs[2] : value;
        long batch = query.shape[0], t = query.shape[1], s = value.shape[1];
        var mask = AttentionMask(callArgs, masks, causal, batch, t, s);

        var q = Project(query, _queryKernel!, _queryBias).mul(1 / Math.Sqrt(KeyDim));       // (batch, T, heads, H)
        var k = Project(key, _keyKernel!, _keyBias);                                        // (batch, S, heads, H)
        var v = Project(value, _valueKernel!, _valueBias);                                  // (batch, S, heads, Hv)
        var scores = q.permute(0, 2, 1, 3).matmul(k.permute(0, 2, 3, 1));                  // (batch, heads, T, S)
        Tensor weights;
        if (mask is null)
        {
            weights = scores.softmax(-1);
        }
        else
        {
            var expanded = mask.unsqueeze(-3);                                              // (batch or 1, 1, T, S)
            weights = where(expanded, scores, full_like(scores, -1e9)).softmax(-1);
            weights = where(expanded, weights, zeros_like(weights));
        }
        var dropped = training && Dropout > 0 ? weights * _random.DropoutMask(weights.shape, Dropout, weights.dtype) : weights;
        var context = dropped.matmul(v.permute(0, 2, 1, 3)).permute(0, 2, 1, 3);          // (batch, T, heads, Hv)
        var outputSizes = _outputKernel!.shape[2..];
        var output = context.reshape(batch, t, -1).matmul(_outputKernel.reshape(NumHeads * ValueDim, -1));
        if (_outputBias is not null)
            output = output + _outputBias.reshape(-1);
        output = output.reshape([batch, t, .. outputSizes]);
        return returnScores ? [output, weights] : [output];
    }

    /// <summary><c>x·W + b</c> with <c>W (features, heads, size)</c>: <c>(batch, steps, heads, size)</c>.</summary>
    private static Tensor Project(Tensor x, Parameter kernel, Parameter? bias)
    {
        var y = x.matmul(kernel.reshape(kernel.shape[0], -1));
        if (bias is not null)
            y = y + bias.reshape(-1);
        return y.reshape(x.shape[0], x.shape[1], kernel.shape[1], kernel.shape[2]);
    }

    /// <summary>The AND of the query, value and key masks, the causal mask and <c>attention_mask</c> (Keras 3's <c>_compute_attention_mask</c>), or null.</summary>
    private Tensor? AttentionMask(IReadOnlyDictionary<string, object?> callArgs, IReadOnlyList<Tensor?> masks, bool causal, long batch, long t, long s)
    {
        var queryMask = CallArguments.Tensor(this, callArgs, "query_mask") ?? masks[0];
        var valueMask = CallArguments.Tensor(this, callArgs, "value_mask") ?? masks[1];
        var keyMask = CallArguments.Tensor(this, callArgs, "key_mask") ?? (masks.Count > 2 ? masks[2] : null);
        Tensor? mask = null;
        void And(Tensor m) => mask = mask is null ? m : mask.logical_and(m);
        if (queryMask is not null)
            And(Bool(CheckMask(queryMask, "query_mask", [batch, t])).unsqueeze(-1));
        if (valueMask is not null)
            And(Bool(CheckMask(valueMask, "value_mask", [batch, s])).unsqueeze(-2));
        if (keyMask is not null)
            And(Bool(CheckMask(keyMask, "key_mask", [batch, s])).unsqueeze(-2));
        if (causal)
            And(ones(t, s, ScalarType.Bool).tril().unsqueeze(0));
        if (CallArguments.Tensor(this, callArgs, MaskArg) is { } attention)
        {
            if (attention.dim() != 3 || !attention.shape.Zip(new[] { batch, t, s }).All(p => p.First == p.Second || p.First == 1))
                throw new ArgumentException(
                    $"Layer '{Name}' (MultiHeadAttention) expects attention_mask of shape (batch, T, S) = {ShapeText.Format([batch, t, s])} (or sizes of 1 that broadcast). Received: {ShapeText.Format(attention.shape)}.");
            And(Bool(attention));
        }
        return mask;
    }

    private Tensor CheckMask(Tensor mask, string what, long[] expected) =>
        mask.shape.SequenceEqual(expected) ? mask
            : throw new ArgumentException($"Layer '{Name}' (MultiHeadAttention) expects {what} of shape {ShapeText.Format(expected)}. Received: {ShapeText.Format(mask.shape)}.");

    private static Tensor Bool(Tensor mask) => mask.dtype == ScalarType.Bool ? mask : mask.ne(0);

    /// <summary>The query's mask (Keras 3), or null.</summary>
    protected override Tensor? ComputeMask(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, IReadOnlyDictionary<string, object?> callArgs) => masks[0];

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["num_heads"] = NumHeads;
        config["key_dim"] = KeyDim;
        config["value_dim"] = ValueDim;
        config["dropout"] = Dropout;
        config["use_bias"] = UseBias;
        config["output_shape"] = _outputShape?.ToArray();
        config["attention_axes"] = _attentionAxes?.ToArray();
        config["kernel_initializer"] = InitializerConfig.Of(KernelInitializer);
        config["bias_initializer"] = InitializerConfig.Of(BiasInitializer);
        config["seed"] = Seed;
        return config;
    }

    internal static MultiHeadAttention FromConfig(LayerConfig c)
    {
        if (c.Bool("use_gate", false))
            throw new NotSupportedException("Layer config for 'MultiHeadAttention' sets use_gate: true (gated attention), which SeqSharp does not implement.");
        if (c.Has("sliding_window"))
            throw new NotSupportedException($"Layer config for 'MultiHeadAttention' sets sliding_window: {c.Get("sliding_window")}, which SeqSharp does not implement.");
        return new MultiHeadAttention(c.Int("num_heads"), c.Int("key_dim"), c.Has("value_dim") ? c.Int("value_dim") : null, c.Double("dropout", 0.0),
            c.Bool("use_bias", true), c.Has("output_shape") ? c.Longs("output_shape") : null,
            c.Has("attention_axes") ? c.Longs("attention_axes").Select(a => checked((int)a)).ToArray() : null,
            c.Initializer("kernel_initializer"), c.Initializer("bias_initializer"), c.OptionalLong("seed"), c.Name, c.DType);
    }
}
