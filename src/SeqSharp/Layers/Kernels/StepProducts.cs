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
    /// <paramref name="scratch"/> holds rows × u. With <paramref name="packs"/>, the products take the
    /// slice's packed copies of the kernel.
    /// </summary>
    public static void Forward<T>(T* h, T* recurrent, T* masks, long gateStride, T* scratch, T* z, int ldz, int rows, int units, int gates, int ldr = 0,
        PackCache<T>? packs = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = gates * units;
        if (ldr == 0)
            ldr = width;
        if (masks == null)
        {
            Product(packs, false, rows, width, units, h, units, recurrent, ldr, T.One, z, ldz);
            return;
        }
        int count = rows * units;
        for (int g = 0; g < gates; g++)
        {
            TensorPrimitives.Multiply(new ReadOnlySpan<T>(h, count), new ReadOnlySpan<T>(masks + g * gateStride, count), new Span<T>(scratch, count));
            Product(packs, false, rows, units, units, scratch, units, recurrent + g * units, ldr, T.One, z + g * units, ldz);
        }
    }

    /// <summary>
    /// <c>C = A · op(B) + beta · C</c> (op(B) = Bᵀ when <paramref name="transpose"/>) through the
    /// slice's packed copies when <paramref name="packs"/> is given, else one BLAS call.
    /// </summary>
    public static void Product<T>(PackCache<T>? packs, bool transpose, int m, int n, int k, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (packs is null)
            Blas.Gemm(false, transpose, m, n, k, T.One, a, lda, b, ldb, beta, c, ldc);
        else
            packs.Multiply(m, n, k, a, lda, b, ldb, transpose, beta, c, ldc);
    }

    /// <summary>
    /// <c>dh (+)= Σ_g (dz_g U_gᵀ) ⊙ m_g</c> for <paramref name="rows"/> rows: adds to
    /// <paramref name="dh"/> with <paramref name="accumulate"/>, else overwrites it.
    /// </summary>
    public static void Backward<T>(T* dz, int lddz, T* recurrent, T* masks, long gateStride, T* scratch, T* dh, int rows, int units, int gates, bool accumulate,
        int ldr = 0, PackCache<T>? packs = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = gates * units;
        if (ldr == 0)
            ldr = width;
        if (masks == null)
        {
            Product(packs, true, rows, units, width, dz, lddz, recurrent, ldr, accumulate ? T.One : T.Zero, dh, units);
            return;
        }
        int count = rows * units;
        var target = new Span<T>(dh, count);
        if (!accumulate)
            target.Clear();
        for (int g = 0; g < gates; g++)
        {
            Product(packs, true, rows, units, units, dz + g * units, lddz, recurrent + g * units, ldr, T.Zero, scratch, units);
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
