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
    }

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
