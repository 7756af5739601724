using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// A float32 matrix product with AVX-512 for the recurrent kernels' per-step products, whose
/// right-hand matrix (a kernel or recurrent kernel) is packed once and reused at every step.
/// </summary>
/// <remarks>
/// <para>The BLAS that LibTorch bundles (MKL) takes its AVX2 code path on AMD processors, whatever
/// they support; on this project's AMD EPYC machines with full-width AVX-512 a (32 × 256) by
/// (256 × 1024) product ran at 68 GFLOP/s in MKL on one thread (80 packed) and at 205 GFLOP/s here.
/// On CPUs without AVX-512 the kernels keep MKL (<see cref="IsSupported"/> is false).</para>
/// <para>Layout: the right-hand matrix <c>op(B)</c> (k × n) is stored as panels of 32 columns, each
/// panel k rows of 32 consecutive floats, the last panel padded with zeros. A micro-kernel keeps an
/// 8 × 32 tile of C in sixteen 512-bit registers and adds one rank-1 update per k: two loads of the
/// panel, eight broadcasts of A and sixteen fused multiply-adds. Each element of C is one fused
/// multiply-add chain over k in order, so results differ from MKL's only by float32 rounding.</para>
/// </remarks>
internal static unsafe class Avx512Gemm
{
    /// <summary>Columns per panel (two 512-bit vectors of float32).</summary>
    public const int Panel = 32;

    /// <summary>Whether this CPU and runtime can run the kernel (and it is not disabled).</summary>
    public static bool IsSupported => !Disabled && Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>Forces MKL instead (for tests and the benchmark's comparison).</summary>
    internal static bool Disabled { get; set; } = Environment.GetEnvironmentVariable("SEQSHARP_AVX512_GEMM") == "0";

    /// <summary>Floats a packed (k × n) right-hand matrix takes.</summary>
    public static long PackedLength(int n, int k) => (long)((n + Panel - 1) / Panel) * Panel * k;

    /// <summary>
    /// Packs <c>op(B)</c> (k × n) into <paramref name="packed"/> (<see cref="PackedLength"/> floats):
    /// <paramref name="b"/> is row-major with leading dimension <paramref name="ldb"/>, and
    /// <c>op(B) = Bᵀ</c> (so <paramref name="b"/> is n × k) when <paramref name="transpose"/>.
    /// </summary>
    public static void Pack(int n, int k, float* b, int ldb, bool transpose, float* packed) =>
        PackPanels(n, k, b, ldb, transpose, packed, 0, (n + Panel - 1) / Panel);

    /// <summary><see cref="Pack"/> for panels [<paramref name="firstPanel"/>, <paramref name="endPanel"/>) only.</summary>
    public static void PackPanels(int n, int k, float* b, int ldb, bool transpose, float* packed, int firstPanel, int endPanel)
    {
        for (int p = firstPanel; p < endPanel; p++)
        {
            int first = p * Panel, width = Math.Min(Panel, n - first);
            float* target = packed + (long)p * Panel * k;
            for (int q = 0; q < k; q++)
            {
                float* row = target + (long)q * Panel;
                if (transpose)
                {
                    for (int j = 0; j < width; j++)
                        row[j] = b[(long)(first + j) * ldb + q];
                }
                else
                {
                    new ReadOnlySpan<float>(b + (long)q * ldb + first, width).CopyTo(new Span<float>(row, width));
                }
                if (width < Panel)
                    new Span<float>(row + width, Panel - width).Clear();
            }
        }
    }

    /// <summary>
    /// Row-major <c>C (m × n) = A (m × k) · op(B) + beta · C</c> with <c>op(B)</c> packed by
    /// <see cref="Pack"/>; <paramref name="beta"/> is 0 (C is overwritten, its contents ignored) or 1.
    /// </summary>
    public static void Multiply(int m, int n, int k, float* a, int lda, float* packed, float beta, float* c, int ldc)
    {
        if (beta != 0f && beta != 1f)
            throw new ArgumentOutOfRangeException(nameof(beta), beta, "Internal error: the packed product takes beta 0 or 1.");
        bool accumulate = beta == 1f;
        int panels = (n + Panel - 1) / Panel;
        float* tile = stackalloc float[8 * Panel];
        for (int p = 0; p < panels; p++)
        {
            float* panel = packed + (long)p * Panel * k;
            int column = p * Panel, width = Math.Min(Panel, n - column);
            for (int r = 0; r < m; r += 8)
            {
                int rows = Math.Min(8, m - r);
                float* cTile = c + (long)r * ldc + column;
                if (rows == 8 && width == Panel)
                {
                    Kernel8(k, a + (long)r * lda, lda, panel, cTile, ldc, accumulate);
                    continue;
                }
                // An edge tile: computed in a full 8 × 32 buffer (rows past m repeat the last row of A),
                // then its valid part is copied out.
                for (int i = 0; i < 8; i++)
                {
                    var line = new Span<float>(tile + i * Panel, Panel);
                    if (accumulate && i < rows)
                        new ReadOnlySpan<float>(cTile + (long)i * ldc, width).CopyTo(line);
                    else
                        line.Clear();
                }
                EdgeKernel(k, a + (long)r * lda, lda, rows, panel, tile);
                for (int i = 0; i < rows; i++)
                    new ReadOnlySpan<float>(tile + i * Panel, width).CopyTo(new Span<float>(cTile + (long)i * ldc, width));
            }
        }
    }

    /// <summary>An edge tile of fewer than 8 rows: <paramref name="tile"/> (8 × 32) += A's rows · panel.</summary>
    private static void EdgeKernel(int k, float* a, int lda, int rows, float* panel, float* tile)
    {
        // Rows past the edge repeat the last valid row; their results are discarded.
        long* offsets = stackalloc long[8];
        for (int i = 0; i < 8; i++)
            offsets[i] = (long)Math.Min(i, rows - 1) * lda;
        Kernel8Rows(k, a, offsets, panel, tile, Panel);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8(int k, float* a, int lda, float* b, float* c, int ldc, bool accumulate)
    {
        long* offsets = stackalloc long[8];
        for (int i = 0; i < 8; i++)
            offsets[i] = (long)i * lda;
        if (!accumulate)
        {
            for (int i = 0; i < 8; i++)
                new Span<float>(c + (long)i * ldc, Panel).Clear();
        }
        Kernel8Rows(k, a, offsets, b, c, ldc);
    }

    /// <summary>The 8 × 32 micro-kernel: <c>C += A · panel</c>, with row i of A at <c>a + offsets[i]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8Rows(int k, float* a, long* offsets, float* b, float* c, int ldc)
    {
        float* c0 = c, c1 = c + ldc, c2 = c + 2L * ldc, c3 = c + 3L * ldc, c4 = c + 4L * ldc, c5 = c + 5L * ldc, c6 = c + 6L * ldc, c7 = c + 7L * ldc;
        var s00 = Vector512.Load(c0); var s01 = Vector512.Load(c0 + 16);
        var s10 = Vector512.Load(c1); var s11 = Vector512.Load(c1 + 16);
        var s20 = Vector512.Load(c2); var s21 = Vector512.Load(c2 + 16);
        var s30 = Vector512.Load(c3); var s31 = Vector512.Load(c3 + 16);
        var s40 = Vector512.Load(c4); var s41 = Vector512.Load(c4 + 16);
        var s50 = Vector512.Load(c5); var s51 = Vector512.Load(c5 + 16);
        var s60 = Vector512.Load(c6); var s61 = Vector512.Load(c6 + 16);
        var s70 = Vector512.Load(c7); var s71 = Vector512.Load(c7 + 16);
        float* a0 = a + offsets[0], a1 = a + offsets[1], a2 = a + offsets[2], a3 = a + offsets[3];
        float* a4 = a + offsets[4], a5 = a + offsets[5], a6 = a + offsets[6], a7 = a + offsets[7];
        for (int q = 0; q < k; q++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            b += Panel;
            var x = Vector512.Create(a0[q]);
            s00 = Avx512F.FusedMultiplyAdd(x, b0, s00); s01 = Avx512F.FusedMultiplyAdd(x, b1, s01);
            x = Vector512.Create(a1[q]);
            s10 = Avx512F.FusedMultiplyAdd(x, b0, s10); s11 = Avx512F.FusedMultiplyAdd(x, b1, s11);
            x = Vector512.Create(a2[q]);
            s20 = Avx512F.FusedMultiplyAdd(x, b0, s20); s21 = Avx512F.FusedMultiplyAdd(x, b1, s21);
            x = Vector512.Create(a3[q]);
            s30 = Avx512F.FusedMultiplyAdd(x, b0, s30); s31 = Avx512F.FusedMultiplyAdd(x, b1, s31);
            x = Vector512.Create(a4[q]);
            s40 = Avx512F.FusedMultiplyAdd(x, b0, s40); s41 = Avx512F.FusedMultiplyAdd(x, b1, s41);
            x = Vector512.Create(a5[q]);
            s50 = Avx512F.FusedMultiplyAdd(x, b0, s50); s51 = Avx512F.FusedMultiplyAdd(x, b1, s51);
            x = Vector512.Create(a6[q]);
            s60 = Avx512F.FusedMultiplyAdd(x, b0, s60); s61 = Avx512F.FusedMultiplyAdd(x, b1, s61);
            x = Vector512.Create(a7[q]);
            s70 = Avx512F.FusedMultiplyAdd(x, b0, s70); s71 = Avx512F.FusedMultiplyAdd(x, b1, s71);
        }
        s00.Store(c0); s01.Store(c0 + 16);
        s10.Store(c1); s11.Store(c1 + 16);
        s20.Store(c2); s21.Store(c2 + 16);
        s30.Store(c3); s31.Store(c3 + 16);
        s40.Store(c4); s41.Store(c4 + 16);
        s50.Store(c5); s51.Store(c5 + 16);
        s60.Store(c6); s61.Store(c6 + 16);
        s70.Store(c7); s71.Store(c7 + 16);
    }

    /// <summary>Allocates packed storage (64-byte aligned); free with <see cref="Free"/>.</summary>
    public static float* Allocate(int n, int k) => (float*)NativeMemory.AlignedAlloc((nuint)(PackedLength(n, k) * sizeof(float)), 64);

    /// <summary>Frees storage from <see cref="Allocate"/>.</summary>
    public static void Free(float* packed) => NativeMemory.AlignedFree(packed);
}
