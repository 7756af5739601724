using System.Diagnostics;

namespace SeqSharp.Benchmarks;

/// <summary>
/// Times two actions in alternation within one process, so that drift of the machine's speed
/// affects both alike; reports the median time of each and the median of the per-round ratios.
/// </summary>
internal static class Timing
{
    public sealed record Result(double Ours, double Baseline, double Ratio);

    public static Result Compare(Action ours, Action baseline, int rounds, double targetSecondsPerSample = 0.05)
    {
        // Warm up until the JIT's tiered compilation has settled on both sides (at least 1 s or 30 rounds).
        var warmup = Stopwatch.StartNew();
        for (int w = 0; w < 30 || (warmup.Elapsed.TotalSeconds < 1 && w < 500); w++)
        {
            ours();
            baseline();
        }
        // Repeat each action enough times that one sample takes about targetSecondsPerSample.
        double single = Math.Max(Time(ours, 1), Time(baseline, 1));
        int inner = Math.Clamp((int)(targetSecondsPerSample / Math.Max(single, 1e-6)), 1, 200);
        var a = new List<double>();
        var b = new List<double>();
        var r = new List<double>();
        for (int k = 0; k < rounds; k++)
        {
            double x = Time(ours, inner), y = Time(baseline, inner);
            a.Add(x);
            b.Add(y);
            r.Add(x / y);
        }
        return new Result(Median(a), Median(b), Median(r));
    }

    public static double Time(Action action, int repetitions)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < repetitions; i++)
            action();
        return clock.Elapsed.TotalSeconds / repetitions;
    }

    public static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
