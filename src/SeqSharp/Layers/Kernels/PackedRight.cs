using System.Numerics;
using System.Runtime.InteropServices;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// The right-hand matrix of a batch slice's per-step products (a kernel, the recurrent kernel, or
/// its transpose in backward), packed once per call and reused at every step.
/// </summary>
/// <remarks>
/// <para>For float32 on CPUs with AVX-512 the products run in <see cref="Avx512Gemm"/> (from 4 rows),
/// on panels packed here. Otherwise, from 16 rows, the matrix is packed into MKL's own layout: an
/// ordinary product repacks its right-hand matrix on every call, which for a (32 × 256) by
/// (256 × 1024) step is a sixth of the call (247 µs unpacked, 210 µs packed, one thread).</para>
/// <para>For float64, for fewer rows, and (MKL layout only) for products over fewer rows than
/// packed for (masked steps), <see cref="Multiply"/> makes the ordinary BLAS call with the same operands.</para>
/// </remarks>
internal sealed unsafe class PackedRight<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T* _b;
    private readonly int _rows, _n, _k, _ldb;
    private readonly bool _transpose;
    private float* _panels;
    private byte* _mkl;

    /// <summary>Fewest rows for which a slice uses MKL's packed layout (below it packing gains nothing measurable). Settable for tests.</summary>
    internal static int MinimumRows { get; set; } = 16;

    /// <summary>Fewest rows for which a slice uses <see cref="Avx512Gemm"/> (it computes 8 rows at a time). Settable for tests.</summary>
    internal static int MinimumAvx512Rows { get; set; } = 4;

    /// <summary>
    /// Largest packed copy, in floats (64 MiB), made per slice and call: beyond it (very wide inputs,
    /// thousands of units) the products read the matrix where it is, through MKL.
    /// </summary>
    internal static long MaximumPackedFloats { get; set; } = 1L << 24;

    /// <summary>
    /// Prepares products <c>C (m × n) = A (m × k) · op(B)</c>, m ≤ <paramref name="rows"/>, with
    /// <c>op(B) = Bᵀ</c> when <paramref name="transpose"/>; <paramref name="b"/> (row-major, leading
    /// dimension <paramref name="ldb"/>) must stay valid and unchanged while this lives.
    /// </summary>
    public PackedRight(int rows, int n, int k, T* b, int ldb, bool transpose)
    {
        (_rows, _n, _k, _ldb, _transpose) = (rows, n, k, ldb, transpose);
        _b = b;
        if (typeof(T) != typeof(float) || !Blas.Available)
            return;
        if (Avx512Gemm.IsSupported && rows >= MinimumAvx512Rows && Avx512Gemm.PackedLength(n, k) <= MaximumPackedFloats)
        {
            _panels = Avx512Gemm.Allocate(n, k);
            Avx512Gemm.Pack(n, k, (float*)b, ldb, transpose, _panels);
        }
        else if (Blas.PackingAvailable && rows >= MinimumRows)
        {
            _mkl = (byte*)NativeMemory.AlignedAlloc((nuint)Blas.PackedBytes(rows, n, k), 64);
            Blas.PackRight(rows, n, k, (float*)b, ldb, transpose, _mkl);
        }
    }

    /// <summary>Which product runs: "avx512", "mkl-packed" or "blas" (for tests and diagnostics).</summary>
    public string Path => _panels != null ? "avx512" : _mkl != null ? "mkl-packed" : "blas";

    /// <summary><c>C = A · op(B) + beta · C</c> for <paramref name="m"/> rows; <paramref name="beta"/> is 0 or 1.</summary>
    public void Multiply(int m, T* a, int lda, T beta, T* c, int ldc)
    {
        if (_panels != null)
            Avx512Gemm.Multiply(m, _n, _k, (float*)a, lda, _panels, float.CreateTruncating(beta), (float*)c, ldc);
        else if (_mkl != null && m == _rows)
            Blas.GemmPacked(m, _n, _k, (float*)a, lda, _mkl, float.CreateTruncating(beta), (float*)c, ldc);
        else
            Blas.Gemm(false, _transpose, m, _n, _k, T.One, a, lda, _b, _ldb, beta, c, ldc);
    }

    /// <summary>Frees the packed copy.</summary>
    public void Dispose()
    {
        if (_panels != null)
        {
            Avx512Gemm.Free(_panels);
            _panels = null;
        }
        if (_mkl != null)
        {
            NativeMemory.AlignedFree(_mkl);
            _mkl = null;
        }
    }
}

/// <summary>
/// The packed right-hand matrices one batch slice's loop uses (the whole recurrent kernel, its gate
/// blocks, their transposes), each packed on first use for the slice's row count and freed with the cache.
/// </summary>
internal sealed unsafe class PackCache<T>(int rows) : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dictionary<(nint B, int N, int K, int Ldb, bool Transpose), PackedRight<T>> _packed = [];

    /// <summary>
    /// <c>C = A · op(B) + beta · C</c> for <paramref name="m"/> rows (at most the slice's), with
    /// <c>op(B)</c> (k × n) packed the first time this B, n, k and transpose are seen.
    /// </summary>
    public void Multiply(int m, int n, int k, T* a, int lda, T* b, int ldb, bool transpose, T beta, T* c, int ldc)
    {
        var key = ((nint)b, n, k, ldb, transpose);
        if (!_packed.TryGetValue(key, out var packed))
            _packed[key] = packed = new PackedRight<T>(rows, n, k, b, ldb, transpose);
        packed.Multiply(m, a, lda, beta, c, ldc);
    }

    /// <summary>Frees every packed copy.</summary>
    public void Dispose()
    {
        foreach (var packed in _packed.Values)
            packed.Dispose();
        _packed.Clear();
    }
}
