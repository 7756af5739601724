using System.Diagnostics;
using SeqSharp.Layers.Kernels;
using static TorchSharp.torch;

namespace SeqSharp.Benchmarks;

/// <summary>Inference and training of one shape under different kernel settings, interleaved round by round (diagnostics).</summary>
internal static class Profile
{
    /// <summary>The library's threshold for the AVX-512 large products, restored after the MKL variant.</summary>
    private static readonly long LargeProductsWork = LargeProducts.MinimumWork;

    private sealed record Variant(string Name, int Slices, bool Blas, bool SingleThreaded, bool Packed = true, bool Avx512 = true, bool LargeAvx512 = true);

    public static void Run(Shape shape, string cell)
    {
        manual_seed(1);
        var ours = Models.Ours(cell, shape);
        var native = Models.Native(cell, ours);
        var infer = Workloads.OursPredict(ours, shape);
        var nativeInfer = Workloads.NativePredict(native, shape);
        var train = Workloads.TrainStep(ours, ours.Weights, shape);
        var nativeTrain = Workloads.TrainStep(native, native.parameters(), shape);
        var variants = new[]
        {
            new Variant("2 slices, mkl unpacked", int.MaxValue, true, true, Packed: false, Avx512: false),
            new Variant("2 slices, avx512 products", int.MaxValue, true, true),
            new Variant("2 slices, mkl packed", int.MaxValue, true, true, Avx512: false),
            new Variant("avx512 steps, mkl large", int.MaxValue, true, true, LargeAvx512: false),
            new Variant("2 slices, avx512 again", int.MaxValue, true, true),
            new Variant("2 slices, blas threads", int.MaxValue, true, false),
            new Variant("torch views", 1, false, false),
        };
        var inferTimes = variants.ToDictionary(v => v.Name, _ => new List<double>());
        var trainTimes = variants.ToDictionary(v => v.Name, _ => new List<double>());
        var nativeInferTimes = new List<double>();
        var nativeTrainTimes = new List<double>();
        int inner = Math.Max(1, (int)(0.03 / Math.Max(1e-5, Timing.Time(train, 3))));
        var warm = Stopwatch.StartNew();
        for (int round = -3; round < 9; round++)
        {
            foreach (var v in variants)
            {
                Apply(v);
                double i = Timing.Time(infer, inner), t = Timing.Time(train, inner);
                if (round >= 0)
                {
                    inferTimes[v.Name].Add(i);
                    trainTimes[v.Name].Add(t);
                }
            }
            double ni = Timing.Time(nativeInfer, inner), nt = Timing.Time(nativeTrain, inner);
            if (round >= 0)
            {
                nativeInferTimes.Add(ni);
                nativeTrainTimes.Add(nt);
            }
        }
        Apply(variants[1]);
        Console.WriteLine($"{shape} {cell}: native infer {Timing.Median(nativeInferTimes) * 1e3:F3} ms, train {Timing.Median(nativeTrainTimes) * 1e3:F3} ms");
        foreach (var v in variants)
            Console.WriteLine($"  {v.Name,-26} infer {Timing.Median(inferTimes[v.Name]) * 1e3,8:F3} ms   train {Timing.Median(trainTimes[v.Name]) * 1e3,8:F3} ms");
    }

    private static void Apply(Variant v)
    {
        BatchParallel.MaxSlices = v.Slices;
        BatchParallel.SingleThreadedBlas = v.SingleThreaded;
        Blas.Disabled = !v.Blas;
        Blas.PackingDisabled = !v.Packed;
        Avx512Gemm.Disabled = !v.Avx512;
        LargeProducts.MinimumWork = v.LargeAvx512 ? LargeProductsWork : long.MaxValue;
    }
}
