using System.Numerics;
using System.Numerics.Tensors;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// The per-step recurrent products of a batch slice on raw memory, with or without per-gate
/// recurrent dropout masks (then one product per gate block on the masked state).
/// </summary>
internal static unsafe class StepProducts
{
    /// <summary>
    /// <c>z += Σ_g (h ⊙ m_g) U_g</c> for <paramref name="rows"/> rows: <paramref name="h"/> is
    /// (rows × u), <paramref name="recurrent"/> is (u × gates·u), <paramref name="z"/> has leading
    /// dimension <paramref name="ldz"/> and the kernel <paramref name="ldr"/> (0: gates·u). <paramref name="masks"/> points at the slice's first row of
    /// gate 0's mask (gate g at <c>g · gateStride</c>), or is null for the plain product.
    /// <paramref name="scratch"/> holds rows × u.
    /// </summary>
    public static void Forward<T>(T* h, T* recurrent, T* masks, long gateStride, T* scratch, T* z, int ldz, int rows, int units, int gates, int ldr = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = gates * units;
        if (ldr == 0)
            ldr = width;
        if (masks == null)
        {
            Blas.Gemm(false, false, rows, width, units, T.One, h, units, recurrent, ldr, T.One, z, ldz);
            return;
        }
        int count = rows * units;
        for (int g = 0; g < gates; g++)
        {
            TensorPrimitives.Multiply(new ReadOnlySpan<T>(h, count), new ReadOnlySpan<T>(masks + g * gateStride, count), new Span<T>(scratch, count));
            Blas.Gemm(false, false, rows, units, units, T.One, scratch, units, recurrent + g * units, ldr, T.One, z + g * units, ldz);
        }
    }

    /// <summary>
    /// <c>dh (+)= Σ_g (dz_g U_gᵀ) ⊙ m_g</c> for <paramref name="rows"/> rows: adds to
    /// <paramref name="dh"/> with <paramref name="accumulate"/>, else overwrites it.
    /// </summary>
    public static void Backward<T>(T* dz, int lddz, T* recurrent, T* masks, long gateStride, T* scratch, T* dh, int rows, int units, int gates, bool accumulate,
        int ldr = 0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = gates * units;
        if (ldr == 0)
            ldr = width;
        if (masks == null)
        {
            Blas.Gemm(false, true, rows, units, width, T.One, dz, lddz, recurrent, ldr, accumulate ? T.One : T.Zero, dh, units);
            return;
        }
        int count = rows * units;
        var target = new Span<T>(dh, count);
        if (!accumulate)
            target.Clear();
        for (int g = 0; g < gates; g++)
        {
            Blas.Gemm(false, true, rows, units, units, T.One, dz + g * units, lddz, recurrent + g * units, ldr, T.Zero, scratch, units);
            TensorPrimitives.FusedMultiplyAdd(new ReadOnlySpan<T>(scratch, count), new ReadOnlySpan<T>(masks + g * gateStride, count), target, target);
        }
    }

    /// <summary>Copies <paramref name="count"/> elements.</summary>
    public static void Copy<T>(T* from, T* to, int count) where T : unmanaged =>
        new ReadOnlySpan<T>(from, count).CopyTo(new Span<T>(to, count));

    /// <summary><c>to += from</c> over <paramref name="count"/> elements.</summary>
    public static void Add<T>(T* from, T* to, int count) where T : unmanaged, IFloatingPointIeee754<T> =>
        TensorPrimitives.Add(new ReadOnlySpan<T>(to, count), new ReadOnlySpan<T>(from, count), new Span<T>(to, count));
}
