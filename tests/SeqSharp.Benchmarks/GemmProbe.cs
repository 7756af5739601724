using System.Globalization;
using SeqSharp.Layers.Kernels;
using static TorchSharp.torch;

namespace SeqSharp.Benchmarks;

/// <summary>Per-step product sizes of the kernels, timed through the direct BLAS call with 1 and with all threads.</summary>
internal static unsafe class GemmProbe
{
    public static void Run()
    {
        foreach (var (m, n, k) in new[] { (16, 256, 64), (32, 256, 64), (64, 512, 128), (64, 1024, 256), (32, 1024, 256), (256, 1024, 256), (1, 256, 64), (32, 512, 128), (64, 128, 128) })
        {
            var a = randn(m, k);
            var b = randn(k, n);
            var c = zeros(m, n);
            float* pa = TensorMemory.Pointer<float>(a), pb = TensorMemory.Pointer<float>(b), pc = TensorMemory.Pointer<float>(c);
            Action call = () => Blas.Gemm(false, false, m, n, k, 1f, pa, k, pb, n, 1f, pc, n);
            var times = new List<string>();
            foreach (int threads in new[] { 1, 0 })
            {
                int previous = Blas.SetLocalThreads(threads);
                for (int w = 0; w < 50; w++) call();
                var samples = new List<double>();
                for (int r = 0; r < 9; r++) samples.Add(Timing.Time(call, 200));
                Blas.SetLocalThreads(previous);
                double t = Timing.Median(samples);
                times.Add(string.Create(CultureInfo.InvariantCulture, $"{(threads == 1 ? "1 thread" : "default")} {t * 1e6:F2} us ({2.0 * m * n * k / t / 1e9:F1} GFLOP/s)"));
            }
            if (Blas.PackingAvailable)
            {
                var packed = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)Blas.PackedBytes(m, n, k), 64);
                int previous = Blas.SetLocalThreads(1);
                Blas.PackRight(m, n, k, pb, n, false, packed);
                Action packedCall = () => Blas.GemmPacked(m, n, k, pa, k, packed, 1f, pc, n);
                for (int w = 0; w < 50; w++) packedCall();
                var samples = new List<double>();
                for (int r = 0; r < 9; r++) samples.Add(Timing.Time(packedCall, 200));
                Blas.SetLocalThreads(previous);
                double t = Timing.Median(samples);
                times.Add(string.Create(CultureInfo.InvariantCulture, $"packed 1 thread {t * 1e6:F2} us ({2.0 * m * n * k / t / 1e9:F1} GFLOP/s)"));
                System.Runtime.InteropServices.NativeMemory.AlignedFree(packed);
            }
            if (Avx512Gemm.IsSupported)
            {
                Action pack = () => new PackedRight<float>(m, n, k, pb, n, transpose: false).Dispose();
                var packed = new PackedRight<float>(m, n, k, pb, n, transpose: false);
                Action multiply = () => packed.Multiply(m, pa, k, 1f, pc, n);
                foreach (var (name, act) in new[] { ("avx512 pack", pack), ("avx512 product", multiply) })
                {
                    int previous = Blas.SetLocalThreads(1);
                    for (int w = 0; w < 50; w++) act();
                    var samples = new List<double>();
                    for (int r = 0; r < 9; r++) samples.Add(Timing.Time(act, 200));
                    Blas.SetLocalThreads(previous);
                    times.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {Timing.Median(samples) * 1e6:F2} us"));
                }
                packed.Dispose();
            }
            Console.WriteLine($"gemm {m}x{k} @ {k}x{n}: {string.Join(", ", times)}");
        }
    }
}
