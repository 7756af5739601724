using SeqSharp.Initializers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Turns non-negative integer indices into dense vectors (Keras <c>Embedding</c>): an input
/// <c>(batch, length)</c> of indices in <c>[0, inputDim)</c> becomes <c>(batch, length, outputDim)</c>,
/// row <c>i</c> of the <c>embeddings</c> matrix for index <c>i</c>.
/// </summary>
/// <remarks>
/// <para>Indices may be an integer tensor or a floating-point one holding whole numbers (what
/// <c>Fit</c> gets from a <c>float[,]</c>); other values are refused with the offending range.</para>
/// <para>With <see cref="MaskZero"/>, index 0 is padding: the layer emits the mask
/// <c>index != 0</c>, so recurrent layers skip padded steps and <see cref="GlobalAveragePooling1D"/>
/// averages real ones only. Index 0 then cannot stand for a word: use <c>inputDim = vocabulary + 1</c>.</para>
/// <para>Weight: <c>embeddings (inputDim, outputDim)</c>.</para>
/// </remarks>
/// <example>
/// <code>
/// var x = Utils.PadSequences(tokenizedSentences, maxlen: 20);   // (samples, 20), zeros in front
/// model.Add(new Embedding(inputDim: vocabulary + 1, outputDim: 32, maskZero: true, inputShape: [20]));
/// model.Add(new LSTM(32));
/// </code>
/// </example>
public sealed class Embedding : Layer
{
    private Parameter? _embeddings;

    private protected override IReadOnlyDictionary<string, string> RegularizableWeights { get; } =
        new Dictionary<string, string> { ["embeddings"] = "embeddings" };

    /// <summary>Creates the layer.</summary>
    /// <param name="inputDim">Size of the vocabulary: the largest index + 1.</param>
    /// <param name="outputDim">Size of each vector.</param>
    /// <param name="embeddingsInitializer">Default Keras's <c>"uniform"</c>, <c>RandomUniform(-0.05, 0.05)</c>.</param>
    /// <param name="maskZero">Whether index 0 is padding, masked for the following layers.</param>
    /// <param name="inputLength">The sequence length (Keras 2's <c>input_length</c>): the same as <c>inputShape: [inputLength]</c>.</param>
    /// <param name="inputShape">Sample shape, e.g. <c>[length]</c>, when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Element type of the vectors: Float32 (default) or Float64.</param>
    /// <param name="embeddingsRegularizer">Penalty on the embedding matrix (a name such as <c>"l2"</c> or an object); null for none.</param>
    /// <param name="activityRegularizer">Penalty on the output; null for none.</param>
    /// <param name="embeddingsConstraint">Projection of the embedding matrix after each optimizer step; null for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive dimension.</exception>
    /// <exception cref="ArgumentException">Both <paramref name="inputLength"/> and <paramref name="inputShape"/> given, disagreeing.</exception>
    public Embedding(int inputDim, int outputDim, Initializer? embeddingsInitializer = null, bool maskZero = false, int? inputLength = null,
        long?[]? inputShape = null, string? name = null, ScalarType? dtype = null,
        Regularizers.Regularizer? embeddingsRegularizer = null, Regularizers.Regularizer? activityRegularizer = null,
        Constraints.Constraint? embeddingsConstraint = null)
        : base(name, ResolveInputShape(inputLength, inputShape), dtype)
    {
        SetWeightRules("embeddings", embeddingsRegularizer, embeddingsConstraint);
        ActivityRegularizer = activityRegularizer;
        if (inputDim <= 0)
            throw new ArgumentOutOfRangeException(nameof(inputDim), inputDim, $"Expected a positive vocabulary size. Received: inputDim={inputDim}.");
        if (outputDim <= 0)
            throw new ArgumentOutOfRangeException(nameof(outputDim), outputDim, $"Expected a positive embedding size. Received: outputDim={outputDim}.");
        InputDim = inputDim;
        OutputDim = outputDim;
        EmbeddingsInitializer = embeddingsInitializer ?? new RandomUniform();
        MaskZero = maskZero;
    }

    /// <summary>Size of the vocabulary (largest index + 1).</summary>
    public int InputDim { get; }

    /// <summary>Size of each vector.</summary>
    public int OutputDim { get; }

    /// <summary>Initializer of the embeddings.</summary>
    public Initializer EmbeddingsInitializer { get; }

    /// <summary>Whether index 0 is padding and masked.</summary>
    public bool MaskZero { get; }

    /// <summary>The <c>(inputDim, outputDim)</c> matrix; null before building.</summary>
    public Parameter? Embeddings => _embeddings;

    /// <inheritdoc />
    public override InputSpec InputSpec => new(MinRank: 1);

    /// <inheritdoc />
    protected override bool CastsInput => false;

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape) =>
        _embeddings = AddWeight("embeddings", [InputDim, OutputDim], EmbeddingsInitializer);

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape) => [.. sampleShape, OutputDim];

    /// <inheritdoc />
    /// <exception cref="ArgumentException">An index outside <c>[0, inputDim)</c>, or a floating-point input that is not a whole number.</exception>
    public override Tensor forward(Tensor x)
    {
        var indices = Indices(x);
        return _embeddings!.index_select(0, indices.reshape(-1)).view([.. x.shape, OutputDim]);
    }

    /// <summary><c>index != 0</c> with <see cref="MaskZero"/>, else none (an incoming mask is not passed on, as in Keras).</summary>
    protected internal override Tensor? ComputeMask(Tensor input, Tensor? mask) => MaskZero ? input.ne(0) : null;

    private Tensor Indices(Tensor x)
    {
        if (x.numel() > 0)
        {
            double min, max;
            using (var low = x.min())
            using (var high = x.max())
            {
                min = low.to_type(ScalarType.Float64).item<double>();
                max = high.to_type(ScalarType.Float64).item<double>();
            }
            if (min < 0 || max >= InputDim)
                throw new ArgumentException(
                    $"Layer '{Name}' expects indices in [0, {InputDim}) (inputDim={InputDim}). Received values from {min} to {max}.");
            if (x.is_floating_point())
            {
                using var parts = x.frac();
                using var nonzero = parts.ne(0);
                using var fractional = nonzero.any();
                if (fractional.item<bool>())
                    throw new ArgumentException($"Layer '{Name}' expects whole-number indices. Received a {x.dtype} input with fractional values.");
            }
        }
        return x.dtype == ScalarType.Int64 ? x : x.to_type(ScalarType.Int64);
    }

    private static long?[]? ResolveInputShape(int? inputLength, long?[]? inputShape)
    {
        if (inputLength is null)
            return inputShape;
        if (inputShape is not null && !inputShape.SequenceEqual([(long)inputLength.Value]))
            throw new ArgumentException(
                $"Expected inputLength and inputShape to agree. Received: inputLength={inputLength}, inputShape={ShapeText.Format(inputShape.Select(d => d ?? -1).ToArray())}.", nameof(inputLength));
        return [inputLength.Value];
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["input_dim"] = InputDim;
        config["output_dim"] = OutputDim;
        config["embeddings_initializer"] = InitializerConfig.Of(EmbeddingsInitializer);
        config["mask_zero"] = MaskZero;
        return config;
    }

    internal static Embedding FromConfig(LayerConfig c)
    {
        int? inputLength = c.OptionalLong("input_length") is long length ? checked((int)length) : null;
        var inputShape = c.InputShape;
        return new(c.Int("input_dim"), c.Int("output_dim"), c.Initializer("embeddings_initializer"), c.Bool("mask_zero", false),
            inputShape is null ? inputLength : null, inputShape, c.Name, c.DType);
    }
}
