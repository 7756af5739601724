using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// The fused kernels' large products outside the time loop (the input projection of every step,
/// the kernel, recurrent-kernel and input gradients) on <see cref="Avx512Gemm"/>'s micro-kernel,
/// on all of TorchSharp's threads; elsewhere, TorchSharp's <c>mm</c> / <c>addmm</c>.
/// </summary>
/// <remarks>
/// <para>On CPUs where MKL runs its AVX2 code (AMD with AVX-512) these products were most of a large
/// layer's training step once the time loop used the AVX-512 products. The product is blocked in the
/// usual way: the right-hand matrix is packed 256 rows of k at a time into panels of 32 columns
/// (shared by the threads), and each thread takes 64-row blocks of the left-hand matrix (copied
/// row-major first when it is a transposed view), so that a panel stays in L1 and a row block in L2.</para>
/// <para>Taken for float32 CPU operands that are contiguous or transposed views of contiguous
/// tensors, from <see cref="MinimumWork"/> multiply-adds; anything else goes to TorchSharp.</para>
/// </remarks>
internal static unsafe class LargeProducts
{
    private const int DepthBlock = 256, RowBlock = 64;

    /// <summary>Fewest multiply-adds (m · n · k) for which the AVX-512 product is used. Settable for tests.</summary>
    internal static long MinimumWork { get; set; } = 1L << 21;

    /// <summary><c>a · b</c>, plus <paramref name="bias"/> (a row vector, broadcast) when given.</summary>
    public static Tensor Product(Tensor a, Tensor b, Tensor? bias = null)
    {
        if (!Applies(a, b) || (bias is not null && (bias.dtype != ScalarType.Float32 || bias.dim() != 1)))
            return bias is null ? a.mm(b) : torch.addmm(bias, a, b, 1, 1);
        long m = a.shape[0], n = b.shape[1];
        var c = bias is null ? torch.empty(new[] { m, n }, ScalarType.Float32) : bias.unsqueeze(0).expand(m, n).contiguous();
        Run(a, b, c, bias is null ? 0f : 1f);
        return c;
    }

    /// <summary><c>c += a · b</c> in place.</summary>
    public static void AddProduct(Tensor c, Tensor a, Tensor b)
    {
        if (!Applies(a, b) || c.dtype != ScalarType.Float32 || !c.is_contiguous())
        {
            c.addmm_(a, b, 1, 1);
            return;
        }
        Run(a, b, c, 1f);
    }

    private static bool Applies(Tensor a, Tensor b) =>
        Avx512Gemm.IsSupported && a.dim() == 2 && b.dim() == 2 && a.dtype == ScalarType.Float32 && b.dtype == ScalarType.Float32
        && a.device_type == DeviceType.CPU && b.device_type == DeviceType.CPU && a.shape[1] == b.shape[0]
        && a.shape[0] * b.shape[1] * a.shape[1] >= MinimumWork
        && a.shape[0] <= int.MaxValue && a.shape[1] <= int.MaxValue && b.shape[1] <= int.MaxValue
        && Layout(a).Ok && Layout(b).Ok;

    /// <summary>Whether <paramref name="t"/> is row-major contiguous, or the transpose of a contiguous tensor (then <c>Transposed</c>).</summary>
    private static (bool Ok, bool Transposed) Layout(Tensor t) =>
        t.is_contiguous() ? (true, false) : t.stride(0) == 1 && t.stride(1) == t.shape[0] ? (true, true) : (false, false);

    private static void Run(Tensor a, Tensor b, Tensor c, float beta)
    {
        int m = (int)a.shape[0], k = (int)a.shape[1], n = (int)b.shape[1];
        var (_, aT) = Layout(a);
        var (_, bT) = Layout(b);
        // A transposed view's storage is its transpose, contiguous: read it through that.
        using var aView = aT ? a.t() : null;
        using var bView = bT ? b.t() : null;
        var aBase = aView ?? a;
        var bBase = bView ?? b;
        float* pa = TensorMemory.Pointer<float>(aBase), pb = TensorMemory.Pointer<float>(bBase), pc = TensorMemory.Pointer<float>(c);
        int lda = (int)aBase.shape[1], ldb = (int)bBase.shape[1];
        // Inside Bidirectional's directions at once, the other direction has the other core.
        int threads = BatchParallel.InlineActive ? 1 : Math.Max(1, torch.get_num_threads());
        int panels = (n + Avx512Gemm.Panel - 1) / Avx512Gemm.Panel, rowBlocks = (m + RowBlock - 1) / RowBlock;
        float* packed = Avx512Gemm.Allocate(n, Math.Min(k, DepthBlock));
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
        try
        {
            for (int k0 = 0; k0 < k; k0 += DepthBlock)
            {
                int depth = Math.Min(DepthBlock, k - k0);
                float blockBeta = k0 == 0 ? beta : 1f;
                // op(B) rows [k0, k0 + depth): B's rows, or B's columns when B is stored transposed.
                float* bBlock = bT ? pb + k0 : pb + (long)k0 * ldb;
                int parts = Math.Min(threads, panels);
                Parallel.For(0, parts, options, part =>
                    Avx512Gemm.PackPanels(n, depth, bBlock, ldb, bT, packed, panels * part / parts, panels * (part + 1) / parts));
                Parallel.For(0, rowBlocks, options, () => aT ? new float[RowBlock * DepthBlock] : null, (block, _, buffer) =>
                {
                    int first = block * RowBlock, rows = Math.Min(RowBlock, m - first);
                    float* cBlock = pc + (long)first * n;
                    if (!aT)
                    {
                        Avx512Gemm.Multiply(rows, n, depth, pa + (long)first * lda + k0, lda, packed, blockBeta, cBlock, n);
                        return buffer;
                    }
                    fixed (float* copy = buffer)
                    {
                        // A = Xᵀ with X (k × m): row r of this block is column first + r of X.
                        for (int q = 0; q < depth; q++)
                        {
                            float* source = pa + (long)(k0 + q) * lda + first;
                            for (int r = 0; r < rows; r++)
                                copy[r * depth + q] = source[r];
                        }
                        Avx512Gemm.Multiply(rows, n, depth, copy, depth, packed, blockBeta, cBlock, n);
                    }
                    return buffer;
                }, _ => { });
            }
        }
        finally
        {
            Avx512Gemm.Free(packed);
            GC.KeepAlive(a);
            GC.KeepAlive(b);
            GC.KeepAlive(c);
        }
    }
}
