using System.Numerics;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// Direct calls to the BLAS matrix product that LibTorch itself uses (MKL's <c>sgemm_</c> /
/// <c>dgemm_</c>, exported by the x86-64 Linux <c>libtorch_cpu.so</c>), for the small per-step
/// products of the recurrent kernels: one call on raw memory instead of creating tensor views and
/// going through TorchSharp and the dispatcher at every time step.
/// </summary>
/// <remarks>
/// Where the symbols are not exported (other platforms or builds), <see cref="Available"/> is false
/// and the kernels use TorchSharp's <c>addmm_</c> on views instead; results are the same.
/// Matrices here are row-major, as in TorchSharp; the column-major BLAS call computes the
/// transposed product.
/// </remarks>
internal static unsafe class Blas
{
    private static readonly delegate* unmanaged<byte*, byte*, int*, int*, int*, float*, float*, int*, float*, int*, float*, float*, int*, void> Sgemm;
    private static readonly delegate* unmanaged<byte*, byte*, int*, int*, int*, double*, double*, int*, double*, int*, double*, double*, int*, void> Dgemm;
    private static readonly delegate* unmanaged<int, int> SetThreadsLocal;
    private static readonly delegate* unmanaged<int, int, int, int, nuint> SgemmPackSize;
    private static readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, void> SgemmPack;
    private static readonly delegate* unmanaged<int, int, int, int, int, int, float*, int, float*, int, float, float*, int, void> SgemmCompute;

    // MKL's CBLAS constants.
    private const int RowMajor = 101, NoTrans = 111, Trans = 112, Packed = 151, BMatrix = 162;

    static Blas()
    {
        // Make sure LibTorch is loaded, then look for its BLAS.
        using (var _ = zeros(1))
        {
        }
        string? library = FindMapped("libtorch_cpu.so");
        if (library is null || !NativeLibrary.TryLoad(library, out var handle))
            return;
        if (NativeLibrary.TryGetExport(handle, "sgemm_", out var s) && NativeLibrary.TryGetExport(handle, "dgemm_", out var d))
        {
            Sgemm = (delegate* unmanaged<byte*, byte*, int*, int*, int*, float*, float*, int*, float*, int*, float*, float*, int*, void>)s;
            Dgemm = (delegate* unmanaged<byte*, byte*, int*, int*, int*, double*, double*, int*, double*, int*, double*, double*, int*, void>)d;
        }
        if (NativeLibrary.TryGetExport(handle, "MKL_Set_Num_Threads_Local", out var t))
            SetThreadsLocal = (delegate* unmanaged<int, int>)t;
        if (NativeLibrary.TryGetExport(handle, "cblas_sgemm_pack_get_size", out var size)
            && NativeLibrary.TryGetExport(handle, "cblas_sgemm_pack", out var pack)
            && NativeLibrary.TryGetExport(handle, "cblas_sgemm_compute", out var compute))
        {
            SgemmPackSize = (delegate* unmanaged<int, int, int, int, nuint>)size;
            SgemmPack = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, void>)pack;
            SgemmCompute = (delegate* unmanaged<int, int, int, int, int, int, float*, int, float*, int, float, float*, int, void>)compute;
        }
    }

    /// <summary>
    /// Whether float32 products can take a right-hand matrix packed once into the BLAS's internal
    /// layout (<see cref="PackedBytes"/>, <see cref="PackRight"/>, <see cref="GemmPacked"/>).
    /// </summary>
    public static bool PackingAvailable => Available && !PackingDisabled && SgemmPackSize != null;

    /// <summary>Forces unpacked products (for tests and the benchmark's comparison).</summary>
    internal static bool PackingDisabled { get; set; }

    /// <summary>Bytes a packed (<paramref name="k"/> × <paramref name="n"/>) right-hand matrix takes for products with <paramref name="m"/> rows.</summary>
    public static long PackedBytes(int m, int n, int k) => (long)SgemmPackSize(BMatrix, m, n, k);

    /// <summary>
    /// Packs <c>op(B)</c> (<paramref name="k"/> × <paramref name="n"/>), with <paramref name="b"/>
    /// row-major of leading dimension <paramref name="ldb"/> and <c>op(B) = Bᵀ</c> when
    /// <paramref name="transpose"/>, into <paramref name="packed"/> for <see cref="GemmPacked"/>
    /// calls with <paramref name="m"/> rows.
    /// </summary>
    public static void PackRight(int m, int n, int k, float* b, int ldb, bool transpose, byte* packed) =>
        SgemmPack(RowMajor, BMatrix, transpose ? Trans : NoTrans, m, n, k, 1f, b, ldb, (float*)packed);

    /// <summary>Row-major <c>C = A · B + beta · C</c> with <c>B</c> packed by <see cref="PackRight"/> for the same m, n, k.</summary>
    public static void GemmPacked(int m, int n, int k, float* a, int lda, byte* packed, float beta, float* c, int ldc) =>
        SgemmCompute(RowMajor, NoTrans, Packed, m, n, k, a, lda, (float*)packed, n, beta, c, ldc);

    /// <summary>Whether the direct BLAS calls are available in this process (and not disabled).</summary>
    public static bool Available => !Disabled && Sgemm != null && Dgemm != null;

    /// <summary>Forces the TorchSharp fallback (for tests that compare both paths).</summary>
    internal static bool Disabled { get; set; }

    /// <summary>
    /// Sets the number of threads the BLAS uses for calls from this thread (0 restores the global
    /// setting) and returns the previous value; does nothing and returns 0 when unavailable.
    /// </summary>
    public static int SetLocalThreads(int threads) => Available && SetThreadsLocal != null ? SetThreadsLocal(threads) : 0;

    /// <summary>
    /// Row-major <c>C = alpha · op(A) · op(B) + beta · C</c> with <c>C</c> (m × n), <c>op(A)</c> (m × k),
    /// <c>op(B)</c> (k × n); <c>op(X)</c> is <c>Xᵀ</c> when the flag is set. Leading dimensions are
    /// row lengths of the stored matrices. With beta = 0, C's previous contents are ignored.
    /// </summary>
    public static void Gemm<T>(bool transposeA, bool transposeB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Row-major C = op(A) op(B) is column-major Cᵀ = op(B)ᵀ op(A)ᵀ: swap the operands.
        byte ta = transposeB ? (byte)'T' : (byte)'N', tb = transposeA ? (byte)'T' : (byte)'N';
        if (typeof(T) == typeof(float))
        {
            float fa = float.CreateTruncating(alpha), fb = float.CreateTruncating(beta);
            Sgemm(&ta, &tb, &n, &m, &k, &fa, (float*)b, &ldb, (float*)a, &lda, &fb, (float*)c, &ldc);
        }
        else
        {
            double da = double.CreateTruncating(alpha), db = double.CreateTruncating(beta);
            Dgemm(&ta, &tb, &n, &m, &k, &da, (double*)b, &ldb, (double*)a, &lda, &db, (double*)c, &ldc);
        }
    }

    private static string? FindMapped(string fileName)
    {
        if (!OperatingSystem.IsLinux())
            return null;
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            int slash = line.IndexOf('/');
            if (slash >= 0 && line.EndsWith("/" + fileName, StringComparison.Ordinal))
                return line[slash..];
        }
        return null;
    }
}
