using SeqSharp.Activations;
using SeqSharp.Initializers;
using SeqSharp.Layers.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// The long short-term memory cell, with Keras's gate order i, f, c, o and optional peepholes.
/// </summary>
/// <remarks>
/// <para>With <c>z = x_t · kernel + h_{t-1} · recurrent_kernel + bias</c> split into four blocks of
/// <c>units</c> columns, σ the recurrent activation and act the activation:</para>
/// <code>
/// i_t = σ(z_i + w_ci ⊙ c_{t-1})     f_t = σ(z_f + w_cf ⊙ c_{t-1})     g_t = act(z_c)
/// c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t   o_t = σ(z_o + w_co ⊙ c_t)         h_t = o_t ⊙ act(c_t)
/// </code>
/// <para>The peephole terms (<c>w_c·</c>, diagonal) are present only with <c>usePeepholes</c>.</para>
/// <para>Weights (Keras order): <c>kernel (features, 4·units)</c>, <c>recurrent_kernel (units, 4·units)</c>,
/// <c>bias (4·units)</c>, and with peepholes <c>peephole (3, units)</c> with rows i, f, o.</para>
/// </remarks>
public sealed class LstmCell : RecurrentCell
{
    private Parameter? _kernel;
    private Parameter? _recurrentKernel;
    private Parameter? _bias;
    private Parameter? _peephole;

    /// <summary>Creates the cell; see <see cref="LSTM"/> for the arguments.</summary>
    public LstmCell(int units, string activation = "tanh", string recurrentActivation = "sigmoid", bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
        bool unitForgetBias = true, bool usePeepholes = false, double dropout = 0.0, double recurrentDropout = 0.0, long? seed = null)
        : base("lstm_cell", units, dropout, recurrentDropout, seed)
    {
        Activation = Activations.Activation.ForRecurrent(activation, nameof(activation));
        RecurrentActivation = Activations.Activation.ForRecurrent(recurrentActivation, nameof(recurrentActivation));
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? new GlorotUniform();
        RecurrentInitializer = recurrentInitializer ?? new Orthogonal();
        BiasInitializer = biasInitializer ?? new Zeros();
        UnitForgetBias = unitForgetBias;
        UsePeepholes = usePeepholes;
    }

    /// <summary>The cell-input and output activation.</summary>
    public Activations.Activation Activation { get; }

    /// <summary>The gate activation.</summary>
    public Activations.Activation RecurrentActivation { get; }

    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }

    /// <summary>Initializer of the input kernel.</summary>
    public Initializer KernelInitializer { get; }

    /// <summary>Initializer of the recurrent kernel.</summary>
    public Initializer RecurrentInitializer { get; }

    /// <summary>Initializer of the bias.</summary>
    public Initializer BiasInitializer { get; }

    /// <summary>Whether the forget-gate bias starts at 1 (Jozefowicz et al., 2015).</summary>
    public bool UnitForgetBias { get; }

    /// <summary>Whether the gates read the cell state through diagonal peephole weights.</summary>
    public bool UsePeepholes { get; }

    /// <inheritdoc />
    public override int StateCount => 2;

    internal override int GateCount => 4;

    /// <inheritdoc />
    public override bool CanFuse => Activation.IsFusable && RecurrentActivation.IsFusable;

    internal override bool FusesMasksAndDropout => Blas.Available;

    internal override void Build(long inputDim, ScalarType dtype)
    {
        _kernel = AddWeight("kernel", [inputDim, 4L * Units], KernelInitializer, dtype);
        _recurrentKernel = AddWeight("recurrent_kernel", [Units, 4L * Units], RecurrentInitializer, dtype);
        if (UseBias)
        {
            if (UnitForgetBias)
            {
                // Keras: bias_initializer for i, ones for f, bias_initializer for c and o. Computed inside
                // CreateWeight, so that a model built only to read its declared shapes computes nothing.
                _bias = AddWeight("bias", Layer.CreateWeight([4L * Units], new Computed(() => torch.cat([
                    BiasInitializer.Create([Units], dtype),
                    torch.ones(Units, dtype),
                    BiasInitializer.Create([2L * Units], dtype)], 0)), dtype));
            }
            else
            {
                _bias = AddWeight("bias", [4L * Units], BiasInitializer, dtype);
            }
        }
        if (UsePeepholes)
        {
            // As tf.keras's PeepholeLSTMCell: each gate's diagonal drawn by the kernel initializer as a (units) vector.
            _peephole = AddWeight("peephole", Layer.CreateWeight([3L, Units], new Computed(() =>
                torch.stack(Enumerable.Range(0, 3).Select(_ => KernelInitializer.Create([Units], dtype)), 0)), dtype));
        }
    }

    /// <inheritdoc />
    public override Tensor[] Step(Tensor x, Tensor[] states, Tensor? inputMasks = null, Tensor? recurrentMasks = null) =>
        Compute(x, states, inputMasks, recurrentMasks, null);

    internal override Tensor[] StepWithGates(Tensor x, Tensor[] states, IDictionary<string, Tensor> gates) =>
        Compute(x, states, null, null, gates);

    private Tensor[] Compute(Tensor x, Tensor[] states, Tensor? inputMasks, Tensor? recurrentMasks, IDictionary<string, Tensor>? gates)
    {
        Tensor h = states[0], c = states[1];
        var z = MaskedProduct(x, _kernel!, inputMasks, 4) + MaskedProduct(h, _recurrentKernel!, recurrentMasks, 4);
        if (_bias is not null)
            z = z + _bias;
        var parts = z.chunk(4, -1);
        Tensor zi = parts[0], zf = parts[1], zc = parts[2], zo = parts[3];
        if (_peephole is not null)
        {
            zi = zi + _peephole[0] * c;
            zf = zf + _peephole[1] * c;
        }
        var i = RecurrentActivation.Apply(zi);
        var f = RecurrentActivation.Apply(zf);
        var g = Activation.Apply(zc);
        var cNext = f * c + i * g;
        if (_peephole is not null)
            zo = zo + _peephole[2] * cNext;
        var o = RecurrentActivation.Apply(zo);
        if (gates is not null)
        {
            gates["input"] = i;
            gates["forget"] = f;
            gates["candidate"] = g;
            gates["output"] = o;
        }
        return [o * Activation.Apply(cNext), cNext];
    }

    internal override (Tensor Outputs, Tensor[] FinalStates) RunFused(Tensor x, Tensor[] states, RecurrentExtras extras)
    {
        var options = new LstmFunctionOptions(Activation.Kind, RecurrentActivation.Kind);
        Tensor outputs, lastCell;
        if (NeedsGradient(x, states))
        {
            var result = LstmFunction.apply(x, _kernel!, _recurrentKernel!, _bias!, _peephole!, states[0], states[1], extras, options, LayerName);
            (outputs, lastCell) = (result[0], result[1]);
        }
        else
        {
            (outputs, lastCell) = LstmFunction.Infer(x, _kernel!, _recurrentKernel!, _bias, _peephole, states[0], states[1], options, extras);
        }
        return (outputs, [outputs[outputs.shape[0] - 1], lastCell]);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig() => new()
    {
        ["units"] = Units,
        ["activation"] = Activation.Name,
        ["recurrent_activation"] = RecurrentActivation.Name,
        ["use_bias"] = UseBias,
        ["kernel_initializer"] = InitializerConfig.Of(KernelInitializer),
        ["recurrent_initializer"] = InitializerConfig.Of(RecurrentInitializer),
        ["bias_initializer"] = InitializerConfig.Of(BiasInitializer),
        ["unit_forget_bias"] = UnitForgetBias,
        ["use_peepholes"] = UsePeepholes,
    };

    /// <summary>Hands values computed on demand to <see cref="Layer.CreateWeight"/>.</summary>
    private sealed class Computed(Func<Tensor> values) : Initializer
    {
        public override Tensor Create(long[] shape, ScalarType dtype) => values().to_type(dtype).reshape(shape);
    }
}
