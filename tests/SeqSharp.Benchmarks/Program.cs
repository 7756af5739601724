// SeqSharp benchmark: our fused recurrent layers against LibTorch's native nn.LSTM / nn.RNN, in one
// process and one run, plus Fit-loop overhead, peak memory (child processes) and the machine's
// float32 matrix-product rate as a roofline. Not part of `dotnet test`.
//
//   dotnet run -c Release --project tests/SeqSharp.Benchmarks                # full grid, writes docs/benchmarks/
//   dotnet run -c Release --project tests/SeqSharp.Benchmarks -- --quick     # fewer repetitions
//   dotnet run -c Release --project tests/SeqSharp.Benchmarks -- --configs S,M --no-memory
//   dotnet run -c Release --project tests/SeqSharp.Benchmarks -- --examples  # one epoch of every example's model
using SeqSharp.Benchmarks;

SeqSharp.Native.TorchNative.EnsureLoaded();
var options = BenchOptions.Parse(args);
if (options.Child is { } child)
{
    ChildProcesses.RunChild(child, options);
    return;
}
new BenchmarkRun(options).Execute();
