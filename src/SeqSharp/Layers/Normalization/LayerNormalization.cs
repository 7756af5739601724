using SeqSharp.Initializers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Layer normalization (Keras <c>LayerNormalization</c>, Ba et al. 2016): each sample is
/// normalised over <see cref="Axis"/> to zero mean and unit variance, then scaled by <c>gamma</c>
/// and shifted by <c>beta</c>:
/// <c>y = (x - mean) / sqrt(var + epsilon) · gamma + beta</c>, with the biased variance.
/// </summary>
/// <remarks>
/// Unlike <see cref="BatchNormalization"/> it uses no batch statistics, so training and inference
/// compute the same. Weights (Keras order): <c>gamma (size of axis)</c> with <c>scale</c>, then
/// <c>beta (size of axis)</c> with <c>center</c>. Passes masks on.
/// </remarks>
/// <example>
/// <code>
/// model.Add(new LSTM(64, returnSequences: true));
/// model.Add(new LayerNormalization());      // normalises each step's 64 features
/// </code>
/// </example>
public sealed class LayerNormalization : Layer
{
    private Parameter? _gamma;
    private Parameter? _beta;

    /// <summary>Creates the layer.</summary>
    /// <param name="axis">The axis to normalise, counted with the batch axis (0) included; negative counts from the end. Default -1, the features.</param>
    /// <param name="epsilon">Added to the variance, positive; Keras's default 1e-3.</param>
    /// <param name="center">Whether to add the learned offset <c>beta</c>.</param>
    /// <param name="scale">Whether to multiply by the learned <c>gamma</c>.</param>
    /// <param name="betaInitializer">Default <c>"zeros"</c>.</param>
    /// <param name="gammaInitializer">Default <c>"ones"</c>.</param>
    /// <param name="inputShape">Sample shape when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <param name="betaRegularizer">Penalty on <c>beta</c> (a name such as <c>"l2"</c> or an object); null for none.</param>
    /// <param name="gammaRegularizer">Penalty on <c>gamma</c>; null for none.</param>
    /// <param name="betaConstraint">Projection of <c>beta</c> after each optimizer step; null for none.</param>
    /// <param name="gammaConstraint">Projection of <c>gamma</c> after each optimizer step; null for none.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is 0 (the batch axis) or <paramref name="epsilon"/> is not positive.</exception>
    public LayerNormalization(int axis = -1, double epsilon = 1e-3, bool center = true, bool scale = true,
        Initializer? betaInitializer = null, Initializer? gammaInitializer = null,
        long?[]? inputShape = null, string? name = null, ScalarType? dtype = null,
        Regularizers.Regularizer? betaRegularizer = null, Regularizers.Regularizer? gammaRegularizer = null,
        Constraints.Constraint? betaConstraint = null, Constraints.Constraint? gammaConstraint = null)
        : base(name, inputShape, dtype)
    {
        if (axis == 0)
            throw new ArgumentOutOfRangeException(nameof(axis), axis, "Expected a non-batch axis (axis 0 is the batch). Received: axis=0.");
        if (!(epsilon > 0))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"Expected a positive epsilon. Received: epsilon={epsilon}.");
        Axis = axis;
        Epsilon = epsilon;
        Center = center;
        Scale = scale;
        BetaInitializer = betaInitializer ?? new Zeros();
        GammaInitializer = gammaInitializer ?? new Ones();
        SetWeightRules("beta", betaRegularizer, betaConstraint);
        SetWeightRules("gamma", gammaRegularizer, gammaConstraint);
    }

    /// <summary>The normalised axis (batch axis included).</summary>
    public int Axis { get; }

    /// <summary>Added to the variance.</summary>
    public double Epsilon { get; }

    /// <summary>Whether <c>beta</c> is added.</summary>
    public bool Center { get; }

    /// <summary>Whether <c>gamma</c> multiplies.</summary>
    public bool Scale { get; }

    private protected override IReadOnlyDictionary<string, string> RegularizableWeights { get; } =
        new Dictionary<string, string> { ["beta"] = "beta", ["gamma"] = "gamma" };

    /// <summary>Initializer of <c>beta</c>.</summary>
    public Initializer BetaInitializer { get; }

    /// <summary>Initializer of <c>gamma</c>.</summary>
    public Initializer GammaInitializer { get; }

    /// <inheritdoc />
    public override InputSpec InputSpec => BuiltInputShape is null
        ? new InputSpec(MinRank: Axis > 0 ? Axis + 1 : Math.Max(2, -Axis + 1))
        : new InputSpec(Rank: BuiltInputShape.Length + 1, Axes: new Dictionary<int, long> { [Axis] = BuiltInputShape[ResolvedAxis(BuiltInputShape.Length + 1) - 1] });

    /// <inheritdoc />
    protected override bool SupportsMasking => true;

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape)
    {
        long size = sampleShape[ResolvedAxis(sampleShape.Length + 1) - 1];
        if (Scale)
            _gamma = AddWeight("gamma", [size], GammaInitializer);
        if (Center)
            _beta = AddWeight("beta", [size], BetaInitializer);
    }

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape) => sampleShape;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        long axis = ResolvedAxis((int)x.dim());
        var (variance, mean) = x.var_mean([axis], unbiased: false, keepdim: true);
        var inverse = (variance + Epsilon).rsqrt();
        if (_gamma is not null)
            inverse = inverse * Along(_gamma, x.dim(), axis);
        var offset = -mean * inverse;
        if (_beta is not null)
            offset = offset + Along(_beta, x.dim(), axis);
        return x * inverse + offset;
    }

    /// <summary>A per-axis vector shaped to broadcast along <paramref name="axis"/> of a rank-<paramref name="rank"/> tensor.</summary>
    internal static Tensor Along(Tensor vector, long rank, long axis)
    {
        var shape = Enumerable.Repeat(1L, (int)rank).ToArray();
        shape[axis] = vector.shape[0];
        return vector.view(shape);
    }

    private int ResolvedAxis(int rank) => Axis < 0 ? rank + Axis : Axis;

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["axis"] = Axis;
        config["epsilon"] = Epsilon;
        config["center"] = Center;
        config["scale"] = Scale;
        config["rms_scaling"] = false;
        config["beta_initializer"] = InitializerConfig.Of(BetaInitializer);
        config["gamma_initializer"] = InitializerConfig.Of(GammaInitializer);
        return config;
    }

    internal static LayerNormalization FromConfig(LayerConfig c)
    {
        if (c.Bool("rms_scaling", false))
            throw new NotSupportedException("Layer config for 'LayerNormalization' sets rms_scaling, which SeqSharp does not implement.");
        return new(c.SingleAxis("axis", -1), c.Double("epsilon", 1e-3), c.Bool("center", true), c.Bool("scale", true),
            c.Initializer("beta_initializer"), c.Initializer("gamma_initializer"), c.InputShape, c.Name, c.DType);
    }
}
