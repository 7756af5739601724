using System.Runtime.CompilerServices;
using System.Numerics;
using System.Numerics.Tensors;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// The GRU cell equations for one batch row, in managed code: the single place where the fused
/// kernel's forward and backward arithmetic lives.
/// </summary>
/// <remarks>
/// Keras's gate order z (update), r (reset), h (candidate); σ is the recurrent activation, act the
/// activation, <c>x W + b_in</c> arrives pre-computed per block:
/// <code>
/// z = σ(x W_z + h_{t-1} U_z + b_z)      r = σ(x W_r + h_{t-1} U_r + b_r)
/// reset_after:  n = act(x W_h + b_in,h + r ⊙ (h_{t-1} U_h + b_rec,h))
/// reset_before: n = act(x W_h + b_h + (r ⊙ h_{t-1}) U_h)
/// h_t = z ⊙ h_{t-1} + (1 - z) ⊙ n
/// </code>
/// With reset_after the recurrent biases <c>b_rec</c> of z and r are added to the recurrent part.
/// Each step's gate buffer (3u per row) ends up holding the activated gates [z r n].
/// </remarks>
internal static class GruCellMath
{
    /// <summary>
    /// Forward of one row with reset_after: <paramref name="gates"/> holds <c>x W + b_in</c> and
    /// becomes [z r n]; <paramref name="recurrent"/> is <c>h_{t-1} U + b_rec</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardResetAfter<T>(GruFunctionOptions options, int units, Span<T> gates, ReadOnlySpan<T> recurrent,
        ReadOnlySpan<T> hPrevious, Span<T> h) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var zr = gates[..(2 * units)];
        var r = gates.Slice(units, units);
        var n = gates.Slice(2 * units, units);
        TensorPrimitives.Add(zr, recurrent[..(2 * units)], zr);
        ActivationMath.Apply(options.RecurrentActivation, zr);
        TensorPrimitives.FusedMultiplyAdd(r, recurrent.Slice(2 * units, units), n, n);
        ActivationMath.Apply(options.Activation, n);
        Mix(gates[..units], n, hPrevious, h);
    }

    /// <summary>
    /// First half of a reset_before forward row: <paramref name="gates"/>' z and r blocks hold their
    /// full pre-activations and become z, r; writes <c>r ⊙ h_{t-1}</c> for the candidate's product.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardGatesResetBefore<T>(GruFunctionOptions options, int units, Span<T> gates, ReadOnlySpan<T> hPrevious, Span<T> resetHidden)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ActivationMath.Apply(options.RecurrentActivation, gates[..(2 * units)]);
        TensorPrimitives.Multiply(gates.Slice(units, units), hPrevious, resetHidden);
    }

    /// <summary>Second half of a reset_before forward row: the candidate block holds its pre-activation and becomes n; writes h.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardOutputResetBefore<T>(GruFunctionOptions options, int units, Span<T> gates, ReadOnlySpan<T> hPrevious, Span<T> h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var n = gates.Slice(2 * units, units);
        ActivationMath.Apply(options.Activation, n);
        Mix(gates[..units], n, hPrevious, h);
    }

    /// <summary>
    /// Backward of one reset_after row.
    /// </summary>
    /// <param name="options">The activations.</param>
    /// <param name="units">u.</param>
    /// <param name="gates">[z r n] of the step.</param>
    /// <param name="recurrentCandidate"><c>h_{t-1} U_h + b_rec,h</c> of the step.</param>
    /// <param name="hPrevious">h_{t-1}.</param>
    /// <param name="gradOutput">dL/dh_t from the layer's output.</param>
    /// <param name="gradRecurrent">In: dL/dh_t from step t+1. Out: the direct part of dL/dh_{t-1}, <c>dh ⊙ z</c>; the caller adds the product with Uᵀ.</param>
    /// <param name="gradInputGates">Out: dL/d(x W + b_in) (3u).</param>
    /// <param name="gradRecurrentGates">Out: dL/d(h_{t-1} U + b_rec) (3u).</param>
    /// <param name="scratch">At least u elements.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardResetAfter<T>(GruFunctionOptions options, int units, ReadOnlySpan<T> gates, ReadOnlySpan<T> recurrentCandidate,
        ReadOnlySpan<T> hPrevious, ReadOnlySpan<T> gradOutput, Span<T> gradRecurrent, Span<T> gradInputGates, Span<T> gradRecurrentGates, Span<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = gates.Slice(units, units);
        var dr = gradInputGates.Slice(units, units);
        var dn = gradInputGates.Slice(2 * units, units);
        BackwardMix(options, units, gates, hPrevious, gradOutput, gradRecurrent, gradInputGates, scratch);

        // n = act(a + r ⊙ c): the candidate's pre-activation gradient dn reaches r through c and c through r.
        TensorPrimitives.Multiply(dn, recurrentCandidate, dr);
        ActivationMath.MultiplyByDerivative(options.RecurrentActivation, r, dr);
        gradInputGates[..(2 * units)].CopyTo(gradRecurrentGates);
        TensorPrimitives.Multiply(dn, r, gradRecurrentGates.Slice(2 * units, units));
    }

    /// <summary>
    /// First half of a reset_before backward row: dz and dn into <paramref name="gradGates"/>
    /// (the r block is filled by <see cref="BackwardGatesResetBefore"/>), and <c>dh ⊙ z</c> into
    /// <paramref name="gradRecurrent"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardOutputResetBefore<T>(GruFunctionOptions options, int units, ReadOnlySpan<T> gates, ReadOnlySpan<T> hPrevious,
        ReadOnlySpan<T> gradOutput, Span<T> gradRecurrent, Span<T> gradGates, Span<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        BackwardMix(options, units, gates, hPrevious, gradOutput, gradRecurrent, gradGates, scratch);

    /// <summary>
    /// Second half of a reset_before backward row, given <c>d(r ⊙ h_{t-1}) = dn U_hᵀ</c>: writes dr
    /// and adds <c>d(r ⊙ h_{t-1}) ⊙ r</c> to <paramref name="gradRecurrent"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardGatesResetBefore<T>(GruFunctionOptions options, int units, ReadOnlySpan<T> gates, ReadOnlySpan<T> hPrevious,
        ReadOnlySpan<T> gradResetHidden, Span<T> gradRecurrent, Span<T> gradGates)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = gates.Slice(units, units);
        var dr = gradGates.Slice(units, units);
        TensorPrimitives.Multiply(gradResetHidden, hPrevious, dr);
        ActivationMath.MultiplyByDerivative(options.RecurrentActivation, r, dr);
        TensorPrimitives.FusedMultiplyAdd(gradResetHidden, r, gradRecurrent, gradRecurrent);
    }

    /// <summary>h = z ⊙ h_{t-1} + (1 - z) ⊙ n, computed as n + z ⊙ (h_{t-1} - n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Mix<T>(ReadOnlySpan<T> z, ReadOnlySpan<T> n, ReadOnlySpan<T> hPrevious, Span<T> h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Subtract(hPrevious, n, h);
        TensorPrimitives.FusedMultiplyAdd(z, h, n, h);
    }

    /// <summary>
    /// Through h = z ⊙ h_{t-1} + (1 - z) ⊙ n with dh = gradOutput + gradRecurrent: dz and dn
    /// (pre-activation) into the z and n blocks of <paramref name="gradGates"/>, <c>dh ⊙ z</c> into
    /// <paramref name="gradRecurrent"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardMix<T>(GruFunctionOptions options, int units, ReadOnlySpan<T> gates, ReadOnlySpan<T> hPrevious,
        ReadOnlySpan<T> gradOutput, Span<T> gradRecurrent, Span<T> gradGates, Span<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var z = gates[..units];
        var n = gates.Slice(2 * units, units);
        var dz = gradGates[..units];
        var dn = gradGates.Slice(2 * units, units);
        var dh = scratch[..units];

        TensorPrimitives.Add(gradOutput, gradRecurrent, dh);
        TensorPrimitives.Multiply(dh, z, gradRecurrent);
        TensorPrimitives.Subtract(hPrevious, n, dz);
        TensorPrimitives.Multiply(dz, dh, dz);
        ActivationMath.MultiplyByDerivative(options.RecurrentActivation, z, dz);
        TensorPrimitives.Subtract(dh, gradRecurrent, dn);
        ActivationMath.MultiplyByDerivative(options.Activation, n, dn);
    }
}
