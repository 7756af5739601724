using SeqSharp.Initializers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Batch normalization (Keras <c>BatchNormalization</c>, Ioffe &amp; Szegedy 2015): normalises each
/// channel of <see cref="Axis"/> with the current batch's statistics in training and with moving
/// averages of them in inference, then scales by <c>gamma</c> and shifts by <c>beta</c>.
/// </summary>
/// <remarks>
/// <para>Training mode (<c>train()</c>, as in <c>Fit</c>), when <see cref="Layer.Trainable"/>: with the
/// batch's mean and biased variance over every axis but <see cref="Axis"/>,
/// <c>y = (x - mean) / sqrt(var + epsilon) · gamma + beta</c>, and the moving statistics are
/// updated: <c>moving = moving · momentum + batch · (1 - momentum)</c>. Inference mode, or a frozen
/// layer (Keras: <c>trainable = False</c> means inference), uses the moving statistics instead.</para>
/// <para>With a mask (rank one less than the input's), masked positions are left out of the batch
/// statistics, as in Keras.</para>
/// <para>Weights (Keras order): <c>gamma</c> and <c>beta</c> (trainable, each the size of the axis),
/// then <c>moving_mean</c> and <c>moving_variance</c> (non-trainable: never updated by the
/// optimizer, counted as non-trainable by <c>Summary</c>).</para>
/// </remarks>
/// <example>
/// <code>
/// model.Add(new Conv1D(32, 3, inputShape: [48, 2]));
/// model.Add(new BatchNormalization());
/// model.Add(new Activation("relu"));
/// </code>
/// </example>
public sealed class BatchNormalization : Layer
{
    private Parameter? _gamma;
    private Parameter? _beta;
    private Parameter? _movingMean;
    private Parameter? _movingVariance;

    /// <summary>Creates the layer.</summary>
    /// <param name="axis">The channel axis, counted with the batch axis (0) included; negative counts from the end. Default -1.</param>
    /// <param name="momentum">Weight of the old value in the moving averages, in [0, 1]; Keras's default 0.99.</param>
    /// <param name="epsilon">Added to the variance, positive; Keras's default 1e-3.</param>
    /// <param name="center">Whether to add the learned offset <c>beta</c>.</param>
    /// <param name="scale">Whether to multiply by the learned <c>gamma</c>.</param>
    /// <param name="betaInitializer">Default <c>"zeros"</c>.</param>
    /// <param name="gammaInitializer">Default <c>"ones"</c>.</param>
    /// <param name="movingMeanInitializer">Default <c>"zeros"</c>.</param>
    /// <param name="movingVarianceInitializer">Default <c>"ones"</c>.</param>
    /// <param name="inputShape">Sample shape when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <param name="betaRegularizer">Penalty on <c>beta</c> (a name such as <c>"l2"</c> or an object); null for none.</param>
    /// <param name="gammaRegularizer">Penalty on <c>gamma</c>; null for none.</param>
    /// <param name="betaConstraint">Projection of <c>beta</c> after each optimizer step; null for none.</param>
    /// <param name="gammaConstraint">Projection of <c>gamma</c> after each optimizer step; null for none.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is 0, <paramref name="momentum"/> is outside [0, 1] or <paramref name="epsilon"/> is not positive.</exception>
    public BatchNormalization(int axis = -1, double momentum = 0.99, double epsilon = 1e-3, bool center = true, bool scale = true,
        Initializer? betaInitializer = null, Initializer? gammaInitializer = null,
        Initializer? movingMeanInitializer = null, Initializer? movingVarianceInitializer = null,
        long?[]? inputShape = null, string? name = null, ScalarType? dtype = null,
        Regularizers.Regularizer? betaRegularizer = null, Regularizers.Regularizer? gammaRegularizer = null,
        Constraints.Constraint? betaConstraint = null, Constraints.Constraint? gammaConstraint = null)
        : base(name, inputShape, dtype)
    {
        if (axis == 0)
            throw new ArgumentOutOfRangeException(nameof(axis), axis, "Expected a non-batch axis (axis 0 is the batch). Received: axis=0.");
        if (!(momentum >= 0 && momentum <= 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"Expected a momentum in [0, 1]. Received: momentum={momentum}.");
        if (!(epsilon > 0))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"Expected a positive epsilon. Received: epsilon={epsilon}.");
        Axis = axis;
        Momentum = momentum;
        Epsilon = epsilon;
        Center = center;
        Scale = scale;
        BetaInitializer = betaInitializer ?? new Zeros();
        GammaInitializer = gammaInitializer ?? new Ones();
        SetWeightRules("beta", betaRegularizer, betaConstraint);
        SetWeightRules("gamma", gammaRegularizer, gammaConstraint);
        MovingMeanInitializer = movingMeanInitializer ?? new Zeros();
        MovingVarianceInitializer = movingVarianceInitializer ?? new Ones();
    }

    /// <summary>The channel axis (batch axis included).</summary>
    public int Axis { get; }

    /// <summary>Weight of the old value in the moving averages.</summary>
    public double Momentum { get; }

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

    /// <summary>Initializer of the moving mean.</summary>
    public Initializer MovingMeanInitializer { get; }

    /// <summary>Initializer of the moving variance.</summary>
    public Initializer MovingVarianceInitializer { get; }

    /// <summary>The moving mean used in inference; null before building.</summary>
    public Parameter? MovingMean => _movingMean;

    /// <summary>The moving variance used in inference; null before building.</summary>
    public Parameter? MovingVariance => _movingVariance;

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
        _movingMean = AddWeight("moving_mean", [size], MovingMeanInitializer, trainable: false);
        _movingVariance = AddWeight("moving_variance", [size], MovingVarianceInitializer, trainable: false);
    }

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape) => sampleShape;

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => Normalize(x, null);

    /// <inheritdoc />
    protected override Tensor ForwardMasked(Tensor x, Tensor mask) => Normalize(x, mask);

    private Tensor Normalize(Tensor x, Tensor? mask)
    {
        long axis = ResolvedAxis((int)x.dim());
        Tensor mean, variance;
        if (training && Trainable)
        {
            (mean, variance) = Moments(x, mask, axis);
            using (torch.no_grad())
            {
                _movingMean!.mul_(Momentum).add_(mean.detach(), alpha: 1 - Momentum);
                _movingVariance!.mul_(Momentum).add_(variance.detach(), alpha: 1 - Momentum);
            }
        }
        else
        {
            mean = _movingMean!;
            variance = _movingVariance!;
        }
        var inverse = (variance + Epsilon).rsqrt();
        if (_gamma is not null)
            inverse = inverse * _gamma;
        var offset = -mean * inverse;
        if (_beta is not null)
            offset = offset + _beta;
        return x * LayerNormalization.Along(inverse, x.dim(), axis) + LayerNormalization.Along(offset, x.dim(), axis);
    }

    /// <summary>Mean and biased variance over every axis but <paramref name="axis"/>; with a mask, over unmasked positions (Keras's weighted moments).</summary>
    private (Tensor Mean, Tensor Variance) Moments(Tensor x, Tensor? mask, long axis)
    {
        var reduce = Enumerable.Range(0, (int)x.dim()).Where(a => a != axis).Select(a => (long)a).ToArray();
        if (mask is null)
        {
            var (variance, mean) = x.var_mean(reduce, unbiased: false);
            return (mean, variance);
        }
        if (mask.dim() != x.dim() - 1)
            throw new ArgumentException(
                $"Layer '{Name}' needs a mask of rank {x.dim() - 1} (one less than the input). Received: mask shape {ShapeText.Format(mask.shape)} for input shape {ShapeText.Format(x.shape)}.",
                nameof(mask));
        // Keras: weights summed with its fuzz factor 1e-7 in the denominator.
        var weights = mask.to_type(x.dtype).unsqueeze(-1);
        var count = weights.expand(x.shape).sum(reduce) + 1e-7;
        var weightedMean = (weights * x).sum(reduce) / count;
        var centred = x - LayerNormalization.Along(weightedMean, x.dim(), axis);
        var weightedVariance = (weights * centred.square()).sum(reduce) / count;
        return (weightedMean, weightedVariance);
    }

    private int ResolvedAxis(int rank) => Axis < 0 ? rank + Axis : Axis;

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["axis"] = Axis;
        config["momentum"] = Momentum;
        config["epsilon"] = Epsilon;
        config["center"] = Center;
        config["scale"] = Scale;
        config["beta_initializer"] = InitializerConfig.Of(BetaInitializer);
        config["gamma_initializer"] = InitializerConfig.Of(GammaInitializer);
        config["moving_mean_initializer"] = InitializerConfig.Of(MovingMeanInitializer);
        config["moving_variance_initializer"] = InitializerConfig.Of(MovingVarianceInitializer);
        config["synchronized"] = false;
        return config;
    }

    internal static BatchNormalization FromConfig(LayerConfig c) =>
        new(c.SingleAxis("axis", -1), c.Double("momentum", 0.99), c.Double("epsilon", 1e-3), c.Bool("center", true), c.Bool("scale", true),
            c.Initializer("beta_initializer"), c.Initializer("gamma_initializer"), c.Initializer("moving_mean_initializer"),
            c.Initializer("moving_variance_initializer"), c.InputShape, c.Name, c.DType);
}
