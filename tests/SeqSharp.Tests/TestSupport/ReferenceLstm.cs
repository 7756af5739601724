namespace SeqSharp.Tests.TestSupport;

/// <summary>
/// LibTorch's <c>nn.LSTM</c> as a reference that is right on every CPU.
/// <para>
/// With autograd off, a float32 <c>nn.LSTM</c> runs oneDNN's fused inference primitive, and on some
/// AVX-512 CPUs (seen on AMD EPYC, oneDNN 3.7.1 in LibTorch 2.10) that primitive returns wrong
/// numbers: differences of 0.1 to 0.5 from float64 (shared/notes/onednn-lstm-avx512.md). So this
/// wrapper never uses it: with autograd off it runs a float64 copy of the module (oneDNN takes only
/// float32 and bfloat16) and casts the results back; with autograd on it runs the float32 module,
/// whose training path <see cref="Native.NativeLstmPathTests"/> checks against float64 on this CPU.
/// </para>
/// </summary>
internal sealed class ReferenceLstm
{
    private readonly Func<ScalarType, TorchSharp.Modules.LSTM> _create;

    /// <param name="dtype">The module's dtype (the layer's).</param>
    /// <param name="create">Makes an empty module of the given dtype with this module's configuration.</param>
    public ReferenceLstm(ScalarType dtype, Func<ScalarType, TorchSharp.Modules.LSTM> create)
    {
        _create = create;
        Module = create(dtype);
    }

    /// <summary>The module in the layer's dtype: its parameters and gradients are what gradient tests compare.</summary>
    public TorchSharp.Modules.LSTM Module { get; }

    /// <summary>
    /// <c>(output, h_n, c_n)</c> of the module on <paramref name="x"/>, in <paramref name="x"/>'s dtype.
    /// With autograd off the float64 copy computes them (made anew from the current weights on every call,
    /// so weights changed in between are seen).
    /// </summary>
    public (Tensor Output, Tensor H, Tensor C) call(Tensor x, (Tensor H, Tensor C)? state = null)
    {
        if (is_grad_enabled())
            return Module.call(x, state);

        var dtype = x.dtype;
        var inFloat64 = Float64Copy();
        var (output, h, c) = inFloat64.call(x.to_type(ScalarType.Float64),
            state is { } s ? (s.H.to_type(ScalarType.Float64), s.C.to_type(ScalarType.Float64)) : null);
        return (output.to_type(dtype), h.to_type(dtype), c.to_type(dtype));
    }

    /// <summary>A float64 module holding this module's current weights.</summary>
    public TorchSharp.Modules.LSTM Float64Copy()
    {
        var copy = _create(ScalarType.Float64);
        using var _ = no_grad();
        foreach (var (name, parameter) in Module.named_parameters())
            copy.get_parameter(name)!.copy_(parameter.to_type(ScalarType.Float64));
        return copy;
    }
}
