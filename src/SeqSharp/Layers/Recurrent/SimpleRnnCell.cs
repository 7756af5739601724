using SeqSharp.Activations;
using SeqSharp.Initializers;
using SeqSharp.Layers.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// The fully connected recurrent cell: <c>h_t = act(x_t · kernel + h_{t-1} · recurrent_kernel + bias)</c>.
/// </summary>
/// <remarks>Weights (Keras order): <c>kernel (features, units)</c>, <c>recurrent_kernel (units, units)</c>, <c>bias (units)</c>.</remarks>
public sealed class SimpleRnnCell : RecurrentCell
{
    private Parameter? _kernel;
    private Parameter? _recurrentKernel;
    private Parameter? _bias;

    /// <summary>Creates the cell; see <see cref="SimpleRNN"/> for the arguments.</summary>
    public SimpleRnnCell(int units, string activation = "tanh", bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
        double dropout = 0.0, double recurrentDropout = 0.0, long? seed = null)
        : base("simple_rnn_cell", units, dropout, recurrentDropout, seed)
    {
        Activation = Activations.Activation.ForRecurrent(activation, nameof(activation));
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? new GlorotUniform();
        RecurrentInitializer = recurrentInitializer ?? new Orthogonal();
        BiasInitializer = biasInitializer ?? new Zeros();
    }

    /// <summary>The activation.</summary>
    public Activations.Activation Activation { get; }

    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }

    /// <summary>Initializer of the input kernel.</summary>
    public Initializer KernelInitializer { get; }

    /// <summary>Initializer of the recurrent kernel.</summary>
    public Initializer RecurrentInitializer { get; }

    /// <summary>Initializer of the bias.</summary>
    public Initializer BiasInitializer { get; }

    /// <inheritdoc />
    public override int StateCount => 1;

    internal override int GateCount => 1;

    /// <inheritdoc />
    public override bool CanFuse => Activation.IsFusable;

    internal override bool FusesMasksAndDropout => Blas.Available;

    internal override void Build(long inputDim, ScalarType dtype)
    {
        _kernel = AddWeight("kernel", [inputDim, Units], KernelInitializer, dtype);
        _recurrentKernel = AddWeight("recurrent_kernel", [Units, Units], RecurrentInitializer, dtype);
        if (UseBias)
            _bias = AddWeight("bias", [Units], BiasInitializer, dtype);
    }

    /// <inheritdoc />
    public override Tensor[] Step(Tensor x, Tensor[] states, Tensor? inputMasks = null, Tensor? recurrentMasks = null)
    {
        var z = MaskedProduct(x, _kernel!, inputMasks, 1) + MaskedProduct(states[0], _recurrentKernel!, recurrentMasks, 1);
        if (_bias is not null)
            z = z + _bias;
        return [Activation.Apply(z)];
    }

    internal override Tensor[] StepWithGates(Tensor x, Tensor[] states, IDictionary<string, Tensor> gates) => Step(x, states);

    /// <inheritdoc />
    internal override (Tensor Outputs, Tensor[] FinalStates) RunFused(Tensor x, Tensor[] states, RecurrentExtras extras)
    {
        var outputs = NeedsGradient(x, states)
            ? SimpleRnnFunction.apply(x, _kernel!, _recurrentKernel!, _bias!, states[0], extras, Activation.Kind, LayerName)[0]
            : SimpleRnnFunction.Infer(x, _kernel!, _recurrentKernel!, _bias, states[0], Activation.Kind, extras);
        return (outputs, [outputs[outputs.shape[0] - 1]]);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig() => new()
    {
        ["units"] = Units,
        ["activation"] = Activation.Name,
        ["use_bias"] = UseBias,
        ["kernel_initializer"] = InitializerConfig.Of(KernelInitializer),
        ["recurrent_initializer"] = InitializerConfig.Of(RecurrentInitializer),
        ["bias_initializer"] = InitializerConfig.Of(BiasInitializer),
    };
}
