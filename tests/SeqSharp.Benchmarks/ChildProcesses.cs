using System.Diagnostics;
using System.Globalization;
using SeqSharp.Callbacks;
using static TorchSharp.torch;

namespace SeqSharp.Benchmarks;

/// <summary>
/// Memory is measured in fresh child processes (peak resident size only grows within a process):
/// <c>--child memory SHAPE CELL ours|native</c> and <c>--child flat STEPS</c>. Diagnostics:
/// <c>--child gemm</c> (per-step product sizes, one thread vs all) and <c>--child profile SHAPE CELL</c>
/// (the kernels' threading variants against native, interleaved). <c>--child infer SHAPE CELL ROUNDS</c>
/// times inference against native in a process started with oneDNN capped at AVX2.
/// </summary>
internal static class ChildProcesses
{
    public static void RunChild(string[] args, BenchOptions options)
    {
        switch (args[0])
        {
            case "memory":
                TrainingPeak(Shape.Get(args[1]), args[2], args[3]);
                return;
            case "profile":
                Profile.Run(Shape.Get(args[1]), args[2]);
                return;
            case "bidi":
                BidiProfile.Run(Shape.Get(args[1]), args[2], args.Length > 3 ? args[3] : null,
                    args.Length > 4 ? double.Parse(args[4], CultureInfo.InvariantCulture) : 10);
                return;
            case "predict":
                PredictProfile.Run(Shape.Get(args[1]), args[2], args.Length > 3 ? args[3] : null,
                    args.Length > 4 ? double.Parse(args[4], CultureInfo.InvariantCulture) : 10);
                return;
            case "gemm":
                GemmProbe.Run();
                return;
            case "cells":
                CellProbe.Run();
                return;
            case "infer":
                Inference(Shape.Get(args[1]), args[2], int.Parse(args[3], CultureInfo.InvariantCulture));
                return;
            case "example":
                ExampleEpochs.RunChild(args[1]);
                return;
            case "flat":
                FlatMemory(int.Parse(args[1], CultureInfo.InvariantCulture));
                return;
            default:
                throw new ArgumentException($"Unknown child task '{args[0]}'.");
        }
    }

    /// <summary>Peak resident memory added by a few training steps, bytes: ours or native.</summary>
    private static void TrainingPeak(Shape shape, string cell, string implementation)
    {
        manual_seed(1);
        var ours = Models.Ours(cell, shape);
        var module = implementation == "ours" ? (nn.Module<Tensor, Tensor>)ours : Models.Native(cell, ours);
        var parameters = implementation == "ours" ? ours.Weights : module.parameters();
        var step = Workloads.TrainStep(module, parameters, shape);
        GC.Collect();
        long baseline = ProcessMemory.Resident();
        for (int k = 0; k < 5; k++)
            step();
        Console.WriteLine($"RESULT {ProcessMemory.Peak() - baseline} {baseline}");
    }

    /// <summary>
    /// Inference, ours against native, after checking both against float64: in a child so that the
    /// parent can set <c>ONEDNN_MAX_CPU_ISA</c>, which oneDNN reads once when it starts.
    /// </summary>
    private static void Inference(Shape shape, string cell, int rounds)
    {
        manual_seed(1);
        var ours = Models.Ours(cell, shape);
        var native = Models.Native(cell, ours);
        var check = BaselineCheck.Run(cell, ours, native, shape);
        var infer = Timing.Compare(Workloads.OursPredict(ours, shape), Workloads.NativePredict(native, shape), rounds);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT {infer.Ours:R} {infer.Baseline:R} {infer.Ratio:R} {check.OursInference:R} {check.NativeInference:R}"));
    }

    /// <summary>Our Fit on shape S for many steps, with resident memory sampled every 1000 batches.</summary>
    private static void FlatMemory(int steps)
    {
        manual_seed(1);
        var shape = Shape.Get("S");
        var model = new Sequential();
        model.Add(new SeqSharp.Layers.LSTM(shape.Units, returnSequences: true, inputShape: [shape.Steps, shape.Features]));
        model.Add(new SeqSharp.Layers.Dense(1));
        model.Compile(optimizer: "adam", loss: "mse");
        var x = randn((long)shape.Batch * steps, shape.Steps, shape.Features);
        var y = randn((long)shape.Batch * steps, shape.Steps, 1);
        var sampler = new MemorySampler();
        model.Fit(x, y, batchSize: shape.Batch, epochs: 1, verbose: 0, callbacks: [sampler]);
        Console.WriteLine("RESULT " + string.Join(' ', sampler.Samples.Select(s => $"{s.Step}:{s.Bytes}")));
    }

    private sealed class MemorySampler : Callback
    {
        public List<(int Step, long Bytes)> Samples { get; } = [];

        public override void OnTrainBatchEnd(int batch, IDictionary<string, double> logs)
        {
            if ((batch + 1) % 1000 == 0 || batch == 0)
                Samples.Add((batch + 1, ProcessMemory.Resident()));
        }
    }

    /// <summary>Runs this program as a child with the given task and returns the numbers after RESULT.</summary>
    public static string[] Run(BenchOptions options, params string[] task) => Run(options, null, task);

    /// <summary>As <see cref="Run(BenchOptions, string[])"/>, with extra environment variables for the child.</summary>
    public static string[] Run(BenchOptions options, IReadOnlyDictionary<string, string>? environment, params string[] task)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            info.Environment[name] = value;
        if (options.Threads is int threads)
        {
            info.ArgumentList.Add("--threads");
            info.ArgumentList.Add(threads.ToString(CultureInfo.InvariantCulture));
        }
        info.ArgumentList.Add("--child");
        foreach (var a in task)
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"Child '{string.Join(' ', task)}' failed (exit {process.ExitCode}): {errors}{output}");
        return line["RESULT ".Length..].Trim().Split(' ');
    }
}
