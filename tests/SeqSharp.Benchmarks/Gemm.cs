using System.Diagnostics;
using static TorchSharp.torch;
static class Gemm
{
    public static void Run()
    {
        if (Environment.GetEnvironmentVariable("THREADS") is string t) set_num_threads(int.Parse(t));
        Console.WriteLine($"threads {get_num_threads()}");
        foreach (var (m, k, n) in new[] { (2048, 2048, 2048), (64, 256, 1024), (6400, 256, 1024), (256, 6400, 1024), (64, 1024, 256), (64, 128, 512), (32, 64, 256) })
        {
            var a = randn(m, k); var b = randn(k, n); var c = zeros(m, n);
            for (int w = 0; w < 3; w++) c.addmm_(a, b, 0, 1);
            int reps = Math.Max(3, (int)(2e9 / (2.0 * m * k * n)));
            var sw = Stopwatch.StartNew();
            for (int r = 0; r < reps; r++) c.addmm_(a, b, 0, 1);
            double s = sw.Elapsed.TotalSeconds / reps;
            Console.WriteLine($"gemm {m}x{k}x{n}: {s * 1e6:F1} us, {2.0 * m * k * n / s / 1e9:F1} GFLOP/s");
        }
    }
}
