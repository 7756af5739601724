using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SeqSharp.Activations;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// The LSTM forward step of <see cref="LstmCellMath"/> for float32 with Keras's default activations
/// (tanh, sigmoid) on 512-bit vectors: .NET's <c>Vector&lt;T&gt;</c> stays 256 bits wide on AVX-512
/// CPUs, and once the products ran on <see cref="Avx512Gemm"/> this gate pass was the largest part of
/// a small call (S inference: 20,480 cells at about 4.5 ns each, 40 % of the call).
/// </summary>
/// <remarks>
/// The same equations and the same arithmetic as the generic step: e^x by <see cref="VectorMath.ExpSingle"/>'s
/// polynomial, the reciprocal by the hardware estimate (14 bits here) refined by one Newton step; lanes
/// beyond the last multiple of 16 take the generic step's scalar code.
/// </remarks>
internal static unsafe class LstmCell512
{
    /// <summary>Whether the 512-bit step serves these options on this CPU.</summary>
    public static bool Serves(LstmFunctionOptions options) =>
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated && !Avx512Gemm.Disabled
        && options.Activation == ActivationKind.Tanh && options.RecurrentActivation == ActivationKind.Sigmoid;

    /// <summary>The forward step (the arguments of <see cref="LstmCellMath.StepForward{T}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(float* gates, float* cPrevious, float* c, float* h, float* peephole, int rows, int units)
    {
        float* pi = peephole, pf = peephole + units, po = peephole + 2 * units;
        for (int row = 0; row < rows; row++)
        {
            float* zi = gates + (long)row * 4 * units, zf = zi + units, zg = zf + units, zo = zg + units;
            float* cp = cPrevious + (long)row * units, cn = c + (long)row * units, hn = h + (long)row * units;
            int k = 0;
            for (; k <= units - 16; k += 16)
            {
                var cPrev = Vector512.Load(cp + k);
                var ai = Vector512.Load(zi + k);
                var af = Vector512.Load(zf + k);
                if (peephole != null)
                {
                    ai = Vector512.FusedMultiplyAdd(Vector512.Load(pi + k), cPrev, ai);
                    af = Vector512.FusedMultiplyAdd(Vector512.Load(pf + k), cPrev, af);
                }
                var i = Sigmoid(ai);
                var f = Sigmoid(af);
                var g = Tanh(Vector512.Load(zg + k));
                var cell = f * cPrev + i * g;
                var ao = Vector512.Load(zo + k);
                if (peephole != null)
                    ao = Vector512.FusedMultiplyAdd(Vector512.Load(po + k), cell, ao);
                var o = Sigmoid(ao);
                i.Store(zi + k);
                f.Store(zf + k);
                g.Store(zg + k);
                o.Store(zo + k);
                cell.Store(cn + k);
                (o * Tanh(cell)).Store(hn + k);
            }
            LstmCellMath.ForwardTail<float, TanhOp, SigmoidOp>(k, units, zi, cp, cn, hn, peephole);
        }
    }

    /// <summary>σ(x): with e = exp(-|x|) ≤ 1, 1 / (1 + e) for x ≥ 0 and e / (1 + e) below.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Sigmoid(Vector512<float> x)
    {
        var e = Exp(-Vector512.Abs(x));
        var inverse = Reciprocal(Vector512<float>.One + e);
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), e * inverse, inverse);
    }

    /// <summary>tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|) ≤ 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Tanh(Vector512<float> x)
    {
        var e = Exp(Vector512.Abs(x) * Vector512.Create(-2f));
        var r = (Vector512<float>.One - e) * Reciprocal(Vector512<float>.One + e);
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -r, r);
    }

    /// <summary>1 / x: the 14-bit estimate and one Newton step (relative error about 1e-8 for x in [1, 2]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Reciprocal(Vector512<float> x)
    {
        var r = Avx512F.Reciprocal14(x);
        return r * (Vector512.Create(2f) - x * r);
    }

    /// <summary>e^x for x ≤ 0, as <see cref="VectorMath.ExpSingle"/> computes it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Max(x, Vector512.Create(-87.33654f));
        var n = Vector512.Floor(Vector512.FusedMultiplyAdd(x, Vector512.Create(1.44269504088896341f), Vector512.Create(0.5f)));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), r);
        var p = Vector512.Create(1.9875691500e-4f);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.3981999507e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894e-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459e-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201e-1f));
        p = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        var scale = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23);
        return p * scale.AsSingle();
    }
}
