using System.Diagnostics;
using static TorchSharp.torch;

namespace SeqSharp.Benchmarks;

/// <summary>
/// Where a small <c>Predict</c>'s time goes (<c>--child predict SHAPE CELL [ONLY SECONDS]</c>,
/// diagnostics): LibTorch's native no_grad forward, our layer's call alone, the model's forward
/// under no_grad, <c>Predict</c> at verbose 0 and at the default verbose 1 (its progress line
/// written to this process's standard output), interleaved round by round.
/// </summary>
internal static class PredictProfile
{
    public static void Run(Shape shape, string cell, string? only = null, double seconds = 10)
    {
        manual_seed(1);
        var layer = Models.Ours(cell, shape);
        var native = Models.Native(cell, layer);
        var model = new Sequential([layer]);
        var x = randn(shape.Batch, shape.Steps, shape.Features);
        native.eval();
        var actions = new (string Name, Action Act)[]
        {
            ("native no_grad forward", Workloads.NativePredict(native, shape)),
            ("our layer call, no_grad", () =>
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                layer.Call(x);
            }),
            ("Predict, verbose 0", () => model.Predict(x, batchSize: shape.Batch, verbose: 0).Dispose()),
            ("Predict, verbose 1", () => model.Predict(x, batchSize: shape.Batch).Dispose()),
        };
        if (only is not null)
        {
            var chosen = actions.Single(a => a.Name == only);
            var clock = Stopwatch.StartNew();
            int n = 0;
            for (; clock.Elapsed.TotalSeconds < seconds; n++)
                chosen.Act();
            Console.Error.WriteLine($"{only}: {clock.Elapsed.TotalMilliseconds / n:F4} ms per call over {n} calls");
            return;
        }
        var times = actions.ToDictionary(a => a.Name, _ => new List<double>());
        int inner = Math.Max(1, (int)(0.05 / Math.Max(1e-6, Timing.Time(actions[2].Act, 5))));
        for (int round = -3; round < 15; round++)
        {
            foreach (var (name, act) in actions)
            {
                double s = Timing.Time(act, inner);
                if (round >= 0)
                    times[name].Add(s);
            }
        }
        double baseline = Timing.Median(times[actions[0].Name]);
        Console.Error.WriteLine($"{shape} {cell}");
        foreach (var (name, _) in actions)
        {
            double m = Timing.Median(times[name]);
            Console.Error.WriteLine($"  {name,-28} {m * 1e3,9:F4} ms  x{m / baseline,5:F2} of native");
        }
    }
}
