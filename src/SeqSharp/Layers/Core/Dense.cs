using SeqSharp.Activations;
using SeqSharp.Initializers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// A densely connected layer: <c>output = activation(input · kernel + bias)</c>, acting on the last
/// axis, so a <c>(batch, timesteps, features)</c> input is transformed at every time step.
/// </summary>
/// <remarks>Weights (Keras order): <c>kernel (features, units)</c>, <c>bias (units)</c>. Passes masks on.</remarks>
/// <example>
/// <code>
/// model.Add(new Dense(1, activation: "linear"));
/// </code>
/// </example>
public sealed class Dense : Layer
{
    private Parameter? _kernel;
    private Parameter? _bias;

    /// <summary>Creates the layer.</summary>
    /// <param name="units">Output size, positive.</param>
    /// <param name="activation">Keras activation name; null or <c>"linear"</c> for none.</param>
    /// <param name="useBias">Whether to add a bias vector.</param>
    /// <param name="kernelInitializer">Default <c>"glorot_uniform"</c>.</param>
    /// <param name="biasInitializer">Default <c>"zeros"</c>.</param>
    /// <param name="inputShape">Sample shape without the batch axis, when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <param name="kernelRegularizer">Penalty on the kernel (a name such as <c>"l2"</c> or an object); null for none.</param>
    /// <param name="biasRegularizer">Penalty on the bias; null for none.</param>
    /// <param name="activityRegularizer">Penalty on the output; null for none.</param>
    /// <param name="kernelConstraint">Projection of the kernel after each optimizer step; null for none.</param>
    /// <param name="biasConstraint">Projection of the bias after each optimizer step; null for none.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown activation or initializer name.</exception>
    public Dense(int units, string? activation = null, bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? biasInitializer = null,
        long?[]? inputShape = null, string? name = null, ScalarType? dtype = null,
        Regularizers.Regularizer? kernelRegularizer = null, Regularizers.Regularizer? biasRegularizer = null,
        Regularizers.Regularizer? activityRegularizer = null, Constraints.Constraint? kernelConstraint = null,
        Constraints.Constraint? biasConstraint = null)
        : base(name, inputShape, dtype)
    {
        SetWeightRules("kernel", kernelRegularizer, kernelConstraint);
        SetWeightRules("bias", biasRegularizer, biasConstraint);
        ActivityRegularizer = activityRegularizer;
        if (units <= 0)
            throw new ArgumentOutOfRangeException(nameof(units), units, $"Expected a positive integer for units. Received: units={units}.");
        Units = units;
        Activation = Activations.Activation.Get(activation);
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? new GlorotUniform();
        BiasInitializer = biasInitializer ?? new Zeros();
    }

    private protected override IReadOnlyDictionary<string, string> RegularizableWeights { get; } =
        new Dictionary<string, string> { ["kernel"] = "kernel", ["bias"] = "bias" };

    /// <summary>Output size.</summary>
    public int Units { get; }

    /// <summary>The activation applied to the output.</summary>
    public Activations.Activation Activation { get; }

    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }

    /// <summary>Initializer of the kernel.</summary>
    public Initializer KernelInitializer { get; }

    /// <summary>Initializer of the bias.</summary>
    public Initializer BiasInitializer { get; }

    /// <summary>The <c>(features, units)</c> kernel; null before building.</summary>
    public Parameter? Kernel => _kernel;

    /// <summary>The <c>(units)</c> bias; null before building or without bias.</summary>
    public Parameter? Bias => _bias;

    /// <inheritdoc />
    public override InputSpec InputSpec => BuiltInputShape is null
        ? new InputSpec(MinRank: 2)
        : new InputSpec(MinRank: 2, Axes: new Dictionary<int, long> { [-1] = BuiltInputShape[^1] });

    /// <summary>True: Dense acts on each step alone, so a mask passes through it (Keras).</summary>
    protected override bool SupportsMasking => true;

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape)
    {
        _kernel = AddWeight("kernel", [sampleShape[^1], Units], KernelInitializer);
        if (UseBias)
            _bias = AddWeight("bias", [Units], BiasInitializer);
    }

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape) => Activation.ComputeOutputShape([.. sampleShape[..^1], Units]);

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var y = x.matmul(_kernel!);
        if (_bias is not null)
            y = y.add_(_bias);
        return Activation.Apply(y);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["units"] = Units;
        config["activation"] = Activation.Name;
        config["use_bias"] = UseBias;
        config["kernel_initializer"] = InitializerConfig.Of(KernelInitializer);
        config["bias_initializer"] = InitializerConfig.Of(BiasInitializer);
        return config;
    }

    internal static Dense FromConfig(LayerConfig c) => new(c.Int("units"), c.OptionalString("activation"), c.Bool("use_bias", true),
        c.Initializer("kernel_initializer"), c.Initializer("bias_initializer"), c.InputShape, c.Name, c.DType);
}
