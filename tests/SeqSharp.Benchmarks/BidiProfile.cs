using System.Diagnostics;
using SeqSharp.Layers;
using SeqSharp.Layers.Kernels;
using static TorchSharp.torch;

namespace SeqSharp.Benchmarks;

/// <summary>
/// Where a <c>Bidirectional</c> call's time goes (<c>--child bidi SHAPE CELL</c>, diagnostics): one
/// direction alone, the goBackwards direction alone, both layers called one after the other without
/// the wrapper, and the wrapper, in training steps and inference, interleaved round by round.
/// </summary>
internal static class BidiProfile
{
    public static void Run(Shape shape, string cell, string? only = null, double seconds = 10)
    {
        manual_seed(1);
        var forward = Models.Ours(cell, shape);
        var wrapper = new Bidirectional(Models.Ours(cell, shape));
        wrapper.Build([shape.Steps, shape.Features]);
        forward.SetWeights(wrapper.ForwardLayer.GetWeights());
        var backward = wrapper.BackwardLayer;
        var x = randn(shape.Batch, shape.Steps, shape.Features);
        var target = randn(shape.Batch, shape.Steps, shape.Units);
        var target2 = randn(shape.Batch, shape.Steps, 2 * shape.Units);

        Action Train(IEnumerable<TorchSharp.Modules.Parameter> weights, Func<Tensor> call, Tensor t)
        {
            var optimizer = optim.Adam(weights, 1e-3);
            return () =>
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                (call() - t).pow(2).mean().backward();
                optimizer.step();
            };
        }
        static Action Serial(Action act) => () =>
        {
            ConcurrentDirections.Enabled = false;
            try
            {
                act();
            }
            finally
            {
                ConcurrentDirections.Enabled = true;
            }
        };
        Action Infer(Action call) => () =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            call();
        };
        var protoOptimizer = optim.Adam(wrapper.Weights, 1e-3);
        void BackwardsAtOnce()
        {
            // Prototype: each direction's graph ends at its own output; the merge's gradient is taken
            // first, then both directions' backward passes run at the same time.
            using var scope = NewDisposeScope();
            protoOptimizer.zero_grad();
            var (yF, yB) = ConcurrentDirections.Run(() => wrapper.ForwardLayer.Call(x), () => wrapper.BackwardLayer.Call(x));
            var yFd = yF.detach().requires_grad_(true);
            var yBd = yB.detach().requires_grad_(true);
            var loss = (cat([yFd, yBd.flip(1)], -1) - target2).pow(2).mean();
            var g = autograd.grad([loss], [yFd, yBd]);
            ConcurrentDirections.Run(() => { yF.backward([g[0]]); return 0; }, () => { yB.backward([g[1]]); return 0; });
            protoOptimizer.step();
        }
        var oneTrain = Train(forward.Weights, () => forward.Call(x), target);
        var actions = new (string Name, Action Act)[]
        {
            ("train: one direction", Train(forward.Weights, () => forward.Call(x), target)),
            ("train: goBackwards direction", Train(backward.Weights, () => backward.Call(x), target)),
            ("train: both layers, no wrapper", Train(wrapper.Weights, () => cat([wrapper.ForwardLayer.Call(x), wrapper.BackwardLayer.Call(x).flip(1)], -1), target2)),
            ("train: Bidirectional", Train(wrapper.Weights, () => wrapper.Call(x), target2)),
            ("train: backward passes at once (prototype)", BackwardsAtOnce),
            ("train: Bidirectional, serial", Serial(Train(wrapper.Weights, () => wrapper.Call(x), target2))),
            ("train: one direction twice", Train(forward.Weights, () => cat([forward.Call(x), forward.Call(x)], -1), target2)),
            ("train: one direction, 1 slice", () => { BatchParallel.MaxSlices = 1; oneTrain(); BatchParallel.MaxSlices = int.MaxValue; }),
            ("infer: one direction", Infer(() => forward.Call(x))),
            ("infer: goBackwards direction", Infer(() => backward.Call(x))),
            ("infer: Bidirectional", Infer(() => wrapper.Call(x))),
            ("infer: Bidirectional, serial", Serial(Infer(() => wrapper.Call(x)))),
            ("infer: both layers, no wrapper", Infer(() => { wrapper.ForwardLayer.Call(x); wrapper.BackwardLayer.Call(x); })),
            ("infer: one direction twice", Infer(() => { forward.Call(x); forward.Call(x); })),
            ("infer: one direction, 1 slice", Infer(() => { BatchParallel.MaxSlices = 1; forward.Call(x); BatchParallel.MaxSlices = int.MaxValue; })),
            ("infer: Bidirectional, 1 slice", Infer(() => { BatchParallel.MaxSlices = 1; wrapper.Call(x); BatchParallel.MaxSlices = int.MaxValue; })),
        };
        if (only is not null)
        {
            var chosen = actions.Single(a => a.Name == only);
            if (chosen.Name.StartsWith("infer", StringComparison.Ordinal))
            {
                forward.eval();
                wrapper.eval();
            }
            var clock = Stopwatch.StartNew();
            int n = 0;
            for (; clock.Elapsed.TotalSeconds < seconds; n++)
                chosen.Act();
            Console.WriteLine($"{only}: {clock.Elapsed.TotalMilliseconds / n:F3} ms per call over {n} calls");
            return;
        }
        forward.train();
        wrapper.train();
        var times = actions.ToDictionary(a => a.Name, _ => new List<double>());
        var cpu = actions.ToDictionary(a => a.Name, _ => new List<double>());
        var process = Process.GetCurrentProcess();
        int inner = Math.Max(1, (int)(0.05 / Math.Max(1e-5, Timing.Time(actions[3].Act, 3))));
        for (int round = -3; round < 9; round++)
        {
            foreach (var (name, act) in actions)
            {
                if (name.StartsWith("infer", StringComparison.Ordinal))
                {
                    forward.eval();
                    wrapper.eval();
                }
                else
                {
                    forward.train();
                    wrapper.train();
                }
                process.Refresh();
                var cpuBefore = process.TotalProcessorTime;
                double s = Timing.Time(act, inner);
                process.Refresh();
                if (round >= 0)
                {
                    times[name].Add(s);
                    cpu[name].Add((process.TotalProcessorTime - cpuBefore).TotalSeconds / inner);
                }
            }
        }
        double trainBase = Timing.Median(times[actions[0].Name]), inferBase = Timing.Median(times[actions.First(a => a.Name.StartsWith("infer")).Name]);
        double trainCpu = Timing.Median(cpu[actions[0].Name]), inferCpu = Timing.Median(cpu[actions.First(a => a.Name.StartsWith("infer")).Name]);
        Console.WriteLine($"{shape} {cell}, slices per direction {BatchParallel.Slices(shape.Batch, (long)shape.Batch * shape.Steps * shape.Units)}, threads {get_num_threads()}");
        foreach (var (name, _) in actions)
        {
            double m = Timing.Median(times[name]), c = Timing.Median(cpu[name]);
            bool infer = name.StartsWith("infer", StringComparison.Ordinal);
            Console.WriteLine($"  {name,-34} wall {m * 1e3,9:F3} ms  x{m / (infer ? inferBase : trainBase),5:F2}   cpu {c * 1e3,9:F3} ms  x{c / (infer ? inferCpu : trainCpu),5:F2}");
        }
    }
}
