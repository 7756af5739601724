using SeqSharp.Initializers;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SeqSharp.Layers;

/// <summary>
/// One-dimensional convolution over time (Keras <c>Conv1D</c>): on <c>(batch, steps, channels)</c>
/// input, <c>filters</c> kernels of <c>kernelSize</c> steps slide along the time axis, giving
/// <c>(batch, newSteps, filters)</c>. Like Keras (and every deep-learning library) it computes a
/// cross-correlation: <c>y[t, f] = bias[f] + Σ_j Σ_c x[t·stride + j·dilation, c] · kernel[j, c, f]</c>.
/// </summary>
/// <remarks>
/// <para>Padding: <c>"valid"</c> (none; <c>newSteps = floor((steps - extent) / stride) + 1</c>,
/// <c>extent = dilation·(kernelSize - 1) + 1</c>), <c>"same"</c> (zeros split as TensorFlow does,
/// the odd one at the end; <c>newSteps = ceil(steps / stride)</c>), <c>"causal"</c> (<c>extent - 1</c>
/// zeros at the start only, so output step t sees inputs up to t: for forecasting, WaveNet-style
/// dilated stacks).</para>
/// <para>Weights (Keras layout): <c>kernel (kernelSize, channels, filters)</c>, <c>bias (filters)</c>.
/// Runs as <c>torch.nn.functional.conv1d</c> on the channels-first view.</para>
/// </remarks>
/// <example>
/// <code>
/// model.Add(new Conv1D(filters: 32, kernelSize: 3, activation: "relu", inputShape: [48, 2]));
/// model.Add(new MaxPooling1D(2));
/// model.Add(new LSTM(32));
/// </code>
/// </example>
public sealed class Conv1D : Layer
{
    private Parameter? _kernel;
    private Parameter? _bias;

    private protected override IReadOnlyDictionary<string, string> RegularizableWeights { get; } =
        new Dictionary<string, string> { ["kernel"] = "kernel", ["bias"] = "bias" };

    /// <summary>Creates the layer.</summary>
    /// <param name="filters">Number of output channels, positive.</param>
    /// <param name="kernelSize">Width of the window in steps, positive.</param>
    /// <param name="strides">Step between windows, positive; more than 1 is incompatible with a dilation rate above 1.</param>
    /// <param name="padding"><c>"valid"</c>, <c>"same"</c> or <c>"causal"</c> (case-insensitive).</param>
    /// <param name="dilationRate">Spacing between the kernel's taps, positive.</param>
    /// <param name="activation">Keras activation name; null or <c>"linear"</c> for none.</param>
    /// <param name="useBias">Whether to add a bias per filter.</param>
    /// <param name="kernelInitializer">Default <c>"glorot_uniform"</c> (fans include the kernel width).</param>
    /// <param name="biasInitializer">Default <c>"zeros"</c>.</param>
    /// <param name="inputShape">Sample shape <c>(steps, channels)</c> when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <param name="kernelRegularizer">Penalty on the kernel (a name such as <c>"l2"</c> or an object); null for none.</param>
    /// <param name="biasRegularizer">Penalty on the bias; null for none.</param>
    /// <param name="activityRegularizer">Penalty on the output; null for none.</param>
    /// <param name="kernelConstraint">Projection of the kernel after each optimizer step; null for none.</param>
    /// <param name="biasConstraint">Projection of the bias after each optimizer step; null for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive size, or strides and dilation both above 1.</exception>
    /// <exception cref="ArgumentException">Unknown padding, activation or initializer.</exception>
    public Conv1D(int filters, int kernelSize, int strides = 1, string padding = "valid", int dilationRate = 1, string? activation = null,
        bool useBias = true, Initializer? kernelInitializer = null, Initializer? biasInitializer = null,
        long?[]? inputShape = null, string? name = null, ScalarType? dtype = null,
        Regularizers.Regularizer? kernelRegularizer = null, Regularizers.Regularizer? biasRegularizer = null,
        Regularizers.Regularizer? activityRegularizer = null, Constraints.Constraint? kernelConstraint = null,
        Constraints.Constraint? biasConstraint = null)
        : base(name, inputShape, dtype)
    {
        SetWeightRules("kernel", kernelRegularizer, kernelConstraint);
        SetWeightRules("bias", biasRegularizer, biasConstraint);
        ActivityRegularizer = activityRegularizer;
        RequirePositive(filters, nameof(filters));
        RequirePositive(kernelSize, nameof(kernelSize));
        RequirePositive(strides, nameof(strides));
        RequirePositive(dilationRate, nameof(dilationRate));
        if (strides > 1 && dilationRate > 1)
            throw new ArgumentOutOfRangeException(nameof(strides),
                $"strides > 1 not supported in conjunction with dilationRate > 1. Received: strides={strides} and dilationRate={dilationRate}.");
        Filters = filters;
        KernelSize = kernelSize;
        Strides = strides;
        Padding = ConvPadding.Normalize(padding, allowCausal: true);
        DilationRate = dilationRate;
        Activation = Activations.Activation.Get(activation);
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? new GlorotUniform();
        BiasInitializer = biasInitializer ?? new Zeros();
    }

    /// <summary>Number of output channels.</summary>
    public int Filters { get; }

    /// <summary>Width of the window in steps.</summary>
    public int KernelSize { get; }

    /// <summary>Step between windows.</summary>
    public int Strides { get; }

    /// <summary><c>"valid"</c>, <c>"same"</c> or <c>"causal"</c>.</summary>
    public string Padding { get; }

    /// <summary>Spacing between the kernel's taps.</summary>
    public int DilationRate { get; }

    /// <summary>The activation applied to the output.</summary>
    public Activations.Activation Activation { get; }

    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }

    /// <summary>Initializer of the kernel.</summary>
    public Initializer KernelInitializer { get; }

    /// <summary>Initializer of the bias.</summary>
    public Initializer BiasInitializer { get; }

    /// <inheritdoc />
    public override InputSpec InputSpec => BuiltInputShape is null
        ? new InputSpec(Rank: 3)
        : new InputSpec(Rank: 3, Axes: new Dictionary<int, long> { [-1] = BuiltInputShape[^1] });

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape)
    {
        ComputeOutputShape(sampleShape);
        _kernel = AddWeight("kernel", [KernelSize, sampleShape[^1], Filters], KernelInitializer);
        if (UseBias)
            _bias = AddWeight("bias", [Filters], BiasInitializer);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">With "valid" padding, fewer steps than the kernel's extent.</exception>
    public override long[] ComputeOutputShape(long[] sampleShape)
    {
        long steps = ConvPadding.OutputLength(Padding, sampleShape[0], KernelSize, Strides, DilationRate);
        if (steps < 1 && steps != -1)
            throw new ArgumentException(
                $"Layer '{Name}' needs at least {ConvPadding.Extent(KernelSize, DilationRate)} steps with padding \"valid\" (kernelSize {KernelSize}, dilationRate {DilationRate}). " +
                $"Received input of sample shape {ShapeText.Format(sampleShape)}.");
        return Activation.ComputeOutputShape([steps, Filters]);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var (before, after) = ConvPadding.Amounts(Padding, x.shape[1], KernelSize, Strides, DilationRate);
        var channelsFirst = x.permute(0, 2, 1);
        if (before + after > 0)
            channelsFirst = F.pad(channelsFirst, [before, after]);
        var y = F.conv1d(channelsFirst, _kernel!.permute(2, 1, 0), _bias, stride: Strides, dilation: DilationRate);
        return Activation.Apply(y.permute(0, 2, 1));
    }

    private static void RequirePositive(int value, string name)
    {
        if (value <= 0)
            throw new ArgumentOutOfRangeException(name, value, $"Expected a positive integer for {name}. Received: {name}={value}.");
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["filters"] = Filters;
        config["kernel_size"] = new long[] { KernelSize };
        config["strides"] = new long[] { Strides };
        config["padding"] = Padding;
        config["data_format"] = "channels_last";
        config["dilation_rate"] = new long[] { DilationRate };
        config["groups"] = 1;
        config["activation"] = Activation.Name;
        config["use_bias"] = UseBias;
        config["kernel_initializer"] = InitializerConfig.Of(KernelInitializer);
        config["bias_initializer"] = InitializerConfig.Of(BiasInitializer);
        return config;
    }

    internal static Conv1D FromConfig(LayerConfig c)
    {
        c.RequireChannelsLast();
        if (c.Int("groups", 1) != 1)
            throw new NotSupportedException($"Layer config for 'Conv1D' has groups={c.Int("groups")}; SeqSharp's Conv1D implements groups=1 only.");
        return new(c.Int("filters"), c.SingleInt("kernel_size"), c.SingleInt("strides", 1), c.String("padding", "valid"), c.SingleInt("dilation_rate", 1),
            c.OptionalString("activation"), c.Bool("use_bias", true), c.Initializer("kernel_initializer"), c.Initializer("bias_initializer"),
            c.InputShape, c.Name, c.DType);
    }
}
