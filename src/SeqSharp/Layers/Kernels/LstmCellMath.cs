using System.Numerics;
using System.Numerics.Tensors;
using SeqSharp.Activations;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// The LSTM cell equations for one batch row, in managed code: the single place where the fused
/// kernel's forward and backward arithmetic lives.
/// </summary>
/// <remarks>
/// Forward (Keras gate order i, f, c, o; peephole terms only with peepholes):
/// <code>
/// i = σ(z_i + p_i ⊙ c_{t-1})    f = σ(z_f + p_f ⊙ c_{t-1})    g = act(z_c)
/// c_t = f ⊙ c_{t-1} + i ⊙ g     o = σ(z_o + p_o ⊙ c_t)        h_t = o ⊙ act(c_t)
/// </code>
/// where <c>z = x_t W + h_{t-1} U + b</c> arrives pre-computed, σ is the recurrent activation.
/// </remarks>
internal static unsafe class LstmCellMath
{
    /// <summary>
    /// Evaluates one row in place: <paramref name="z"/> (4u pre-activations) becomes the activated
    /// gates [i f g o]; writes <paramref name="c"/> and <paramref name="h"/>.
    /// </summary>
    public static void Forward<T>(LstmFunctionOptions options, int units, Span<T> z, ReadOnlySpan<T> cPrevious, Span<T> c, Span<T> h, T* peephole)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var i = z[..units];
        var f = z.Slice(units, units);
        var g = z.Slice(2 * units, units);
        var o = z.Slice(3 * units, units);
        if (peephole != null)
        {
            TensorPrimitives.FusedMultiplyAdd(cPrevious, new ReadOnlySpan<T>(peephole, units), i, i);
            TensorPrimitives.FusedMultiplyAdd(cPrevious, new ReadOnlySpan<T>(peephole + units, units), f, f);
        }
        ActivationMath.Apply(options.RecurrentActivation, z[..(2 * units)]);
        ActivationMath.Apply(options.Activation, g);
        TensorPrimitives.Multiply(f, cPrevious, c);
        TensorPrimitives.FusedMultiplyAdd(i, g, c, c);
        if (peephole != null)
            TensorPrimitives.FusedMultiplyAdd(c, new ReadOnlySpan<T>(peephole + 2 * units, units), o, o);
        ActivationMath.Apply(options.RecurrentActivation, o);
        c.CopyTo(h);
        ActivationMath.Apply(options.Activation, h);
        TensorPrimitives.Multiply(h, o, h);
    }

    /// <summary>
    /// Back-propagates one row of one step.
    /// </summary>
    /// <param name="options">The activations.</param>
    /// <param name="units">u.</param>
    /// <param name="gates">The step's activated gates [i f g o] (4u).</param>
    /// <param name="c">c_t.</param>
    /// <param name="cPrevious">c_{t-1}.</param>
    /// <param name="gradOutput">dL/dh_t from the layer's output.</param>
    /// <param name="gradRecurrent">dL/dh_t from step t+1 (already <c>dz_{t+1} U^T</c>).</param>
    /// <param name="gradCell">In: dL/dc_t from step t+1. Out: dL/dc_{t-1}.</param>
    /// <param name="gradGates">Out: dL/dz_t (4u), the pre-activation gradients.</param>
    /// <param name="peephole">The (3, u) peephole weights, or null.</param>
    /// <param name="gradPeephole">Accumulates dL/dpeephole, or null.</param>
    /// <param name="scratch">At least 2u elements of working space.</param>
    public static void Backward<T>(LstmFunctionOptions options, int units, ReadOnlySpan<T> gates, ReadOnlySpan<T> c, ReadOnlySpan<T> cPrevious,
        ReadOnlySpan<T> gradOutput, ReadOnlySpan<T> gradRecurrent, Span<T> gradCell, Span<T> gradGates, T* peephole, T* gradPeephole, Span<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var i = gates[..units];
        var f = gates.Slice(units, units);
        var g = gates.Slice(2 * units, units);
        var o = gates.Slice(3 * units, units);
        var di = gradGates[..units];
        var df = gradGates.Slice(units, units);
        var dg = gradGates.Slice(2 * units, units);
        var dO = gradGates.Slice(3 * units, units);
        var actC = scratch[..units];
        var dh = scratch.Slice(units, units);

        c.CopyTo(actC);
        ActivationMath.Apply(options.Activation, actC);
        TensorPrimitives.Add(gradOutput, gradRecurrent, dh);

        // Output gate: h = o ⊙ act(c).
        TensorPrimitives.Multiply(dh, actC, dO);
        ActivationMath.MultiplyByDerivative(options.RecurrentActivation, o, dO);

        // Cell: the gradient from h through act(c), plus the output peephole, plus the future's.
        TensorPrimitives.Multiply(dh, o, dh);
        ActivationMath.MultiplyByDerivative(options.Activation, actC, dh);
        TensorPrimitives.Add(gradCell, dh, gradCell);
        if (peephole != null)
        {
            TensorPrimitives.FusedMultiplyAdd(dO, new ReadOnlySpan<T>(peephole + 2 * units, units), gradCell, gradCell);
            var dpo = new Span<T>(gradPeephole + 2 * units, units);
            TensorPrimitives.FusedMultiplyAdd(dO, c, dpo, dpo);
        }

        // c = f ⊙ c_prev + i ⊙ g.
        TensorPrimitives.Multiply(gradCell, g, di);
        ActivationMath.MultiplyByDerivative(options.RecurrentActivation, i, di);
        TensorPrimitives.Multiply(gradCell, cPrevious, df);
        ActivationMath.MultiplyByDerivative(options.RecurrentActivation, f, df);
        TensorPrimitives.Multiply(gradCell, i, dg);
        ActivationMath.MultiplyByDerivative(options.Activation, g, dg);

        TensorPrimitives.Multiply(gradCell, f, gradCell);
        if (peephole != null)
        {
            TensorPrimitives.FusedMultiplyAdd(di, new ReadOnlySpan<T>(peephole, units), gradCell, gradCell);
            TensorPrimitives.FusedMultiplyAdd(df, new ReadOnlySpan<T>(peephole + units, units), gradCell, gradCell);
            var dpi = new Span<T>(gradPeephole, units);
            var dpf = new Span<T>(gradPeephole + units, units);
            TensorPrimitives.FusedMultiplyAdd(di, cPrevious, dpi, dpi);
            TensorPrimitives.FusedMultiplyAdd(df, cPrevious, dpf, dpf);
        }
    }
}
