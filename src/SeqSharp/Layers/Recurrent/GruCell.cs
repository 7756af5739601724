using SeqSharp.Initializers;
using SeqSharp.Layers.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// The gated recurrent unit cell (Cho et al. 2014), with Keras's gate order z, r, h and both of its
/// conventions for the reset gate.
/// </summary>
/// <remarks>
/// <para>With σ the recurrent activation and act the activation:</para>
/// <code>
/// z_t = σ(x_t W_z + h_{t-1} U_z + b_z)          r_t = σ(x_t W_r + h_{t-1} U_r + b_r)
/// resetAfter (default):  n_t = act(x_t W_h + b_h + r_t ⊙ (h_{t-1} U_h + b'_h))
/// resetAfter false:      n_t = act(x_t W_h + b_h + (r_t ⊙ h_{t-1}) U_h)
/// h_t = z_t ⊙ h_{t-1} + (1 - z_t) ⊙ n_t
/// </code>
/// <para>With resetAfter the bias has two rows: row 0 is added to the input projection, row 1 to
/// the recurrent one (<c>b'</c>; for z and r the two rows simply add up).</para>
/// <para>Weights (Keras order): <c>kernel (features, 3·units)</c>, <c>recurrent_kernel (units, 3·units)</c>,
/// <c>bias (2, 3·units)</c> with resetAfter or <c>(3·units)</c> without.</para>
/// <para>PyTorch's <c>nn.GRU</c> is the resetAfter form with gate order r, z, n: its
/// <c>weight_ih</c> is <c>[W_r W_z W_h]ᵀ</c>, <c>weight_hh</c> is <c>[U_r U_z U_h]ᵀ</c>,
/// <c>bias_ih</c> and <c>bias_hh</c> are bias rows 0 and 1 reordered the same way.</para>
/// </remarks>
public sealed class GruCell : RecurrentCell
{
    private Parameter? _kernel;
    private Parameter? _recurrentKernel;
    private Parameter? _bias;

    /// <summary>Creates the cell; see <see cref="GRU"/> for the arguments.</summary>
    public GruCell(int units, string activation = "tanh", string recurrentActivation = "sigmoid", bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
        bool resetAfter = true, double dropout = 0.0, double recurrentDropout = 0.0, long? seed = null)
        : base("gru_cell", units, dropout, recurrentDropout, seed)
    {
        Activation = Activations.Activation.ForRecurrent(activation, nameof(activation));
        RecurrentActivation = Activations.Activation.ForRecurrent(recurrentActivation, nameof(recurrentActivation));
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? new GlorotUniform();
        RecurrentInitializer = recurrentInitializer ?? new Orthogonal();
        BiasInitializer = biasInitializer ?? new Zeros();
        ResetAfter = resetAfter;
    }

    /// <summary>The candidate activation.</summary>
    public Activations.Activation Activation { get; }

    /// <summary>The update and reset gate activation.</summary>
    public Activations.Activation RecurrentActivation { get; }

    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }

    /// <summary>Initializer of the input kernel.</summary>
    public Initializer KernelInitializer { get; }

    /// <summary>Initializer of the recurrent kernel.</summary>
    public Initializer RecurrentInitializer { get; }

    /// <summary>Initializer of the bias.</summary>
    public Initializer BiasInitializer { get; }

    /// <summary>Whether the reset gate multiplies the recurrent projection (true, Keras 3's default and cuDNN's form) or the previous state.</summary>
    public bool ResetAfter { get; }

    /// <inheritdoc />
    public override int StateCount => 1;

    internal override int GateCount => 3;

    /// <inheritdoc />
    public override bool CanFuse => Activation.IsFusable && RecurrentActivation.IsFusable;

    internal override bool FusesMasksAndDropout => Blas.Available;

    internal override void Build(long inputDim, ScalarType dtype)
    {
        _kernel = AddWeight("kernel", [inputDim, 3L * Units], KernelInitializer, dtype);
        _recurrentKernel = AddWeight("recurrent_kernel", [Units, 3L * Units], RecurrentInitializer, dtype);
        if (UseBias)
            _bias = AddWeight("bias", ResetAfter ? [2L, 3L * Units] : [3L * Units], BiasInitializer, dtype);
    }

    /// <inheritdoc />
    public override Tensor[] Step(Tensor x, Tensor[] states, Tensor? inputMasks = null, Tensor? recurrentMasks = null) =>
        Compute(x, states, inputMasks, recurrentMasks, null);

    internal override Tensor[] StepWithGates(Tensor x, Tensor[] states, IDictionary<string, Tensor> gates) =>
        Compute(x, states, null, null, gates);

    private Tensor[] Compute(Tensor x, Tensor[] states, Tensor? inputMasks, Tensor? recurrentMasks, IDictionary<string, Tensor>? gates)
    {
        var h = states[0];
        var inputPart = MaskedProduct(x, _kernel!, inputMasks, 3);
        if (_bias is not null)
            inputPart = inputPart + (ResetAfter ? _bias[0] : _bias);
        var xs = inputPart.chunk(3, -1);
        Tensor z, r, candidate;
        if (ResetAfter)
        {
            var recurrentPart = MaskedProduct(h, _recurrentKernel!, recurrentMasks, 3);
            if (_bias is not null)
                recurrentPart = recurrentPart + _bias[1];
            var hs = recurrentPart.chunk(3, -1);
            z = RecurrentActivation.Apply(xs[0] + hs[0]);
            r = RecurrentActivation.Apply(xs[1] + hs[1]);
            candidate = r * hs[2];
        }
        else
        {
            var u = _recurrentKernel!.chunk(3, 1);
            z = RecurrentActivation.Apply(xs[0] + Masked(h, recurrentMasks, 0).matmul(u[0]));
            r = RecurrentActivation.Apply(xs[1] + Masked(h, recurrentMasks, 1).matmul(u[1]));
            candidate = (r * Masked(h, recurrentMasks, 2)).matmul(u[2]);
        }
        var n = Activation.Apply(xs[2] + candidate);
        if (gates is not null)
        {
            gates["update"] = z;
            gates["reset"] = r;
            gates["candidate"] = n;
        }
        return [z * h + (1 - z) * n];
    }

    /// <inheritdoc />
    internal override (Tensor Outputs, Tensor[] FinalStates) RunFused(Tensor x, Tensor[] states, RecurrentExtras extras)
    {
        var options = new GruFunctionOptions(Activation.Kind, RecurrentActivation.Kind, ResetAfter);
        var outputs = NeedsGradient(x, states)
            ? GruFunction.apply(x, _kernel!, _recurrentKernel!, _bias!, states[0], extras, options, LayerName)[0]
            : GruFunction.Infer(x, _kernel!, _recurrentKernel!, _bias, states[0], options, extras);
        return (outputs, [outputs[outputs.shape[0] - 1]]);
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
        ["reset_after"] = ResetAfter,
    };
}
