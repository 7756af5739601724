// Long-range memory: SimpleRNN and LSTM on the adding problem (Hochreiter & Schmidhuber 1997) at
// T = 10, 50, 100, 200 steps, with the same units, optimizer and number of training steps. The
// reference document says plain RNNs lose information over long sequences and the LSTM's gates
// keep it; this measures it. Options: --small (T = 10 only, a few seconds), --out <folder> for
// long-range.md, long-range.csv and long-range.png (default: the current folder).
using System.Diagnostics;
using SeqSharp;
using SeqSharp.Examples.LongRangeMemory;
using static TorchSharp.torch;

// Small recurrent models train fastest on one LibTorch thread (see examples/CnnLstmForecast).
SeqSharp.Native.TorchNative.EnsureLoaded();
TorchSharp.torch.set_num_threads(1);

int outAt = Array.IndexOf(args, "--out");
string folder = outAt >= 0 && outAt + 1 < args.Length ? args[outAt + 1] : Directory.GetCurrentDirectory();
var clock = Stopwatch.StartNew();
var options = args.Contains("--small") ? LongRangeOptions.Small : LongRangeOptions.Full;
var longest = new Dictionary<string, Sequential>();
Tensor? longestTest = null;
var rows = LongRangeExample.Run(options, Console.Out, (steps, name, model, xTest) =>
{
    if (steps != options.Lengths.Max())
        return;
    longest[name] = model;
    longestTest = xTest;
});
var (md, csv, png) = LongRangeExample.Write(rows, folder);
Console.WriteLine();
LongRangeExample.Inspect(longest, longestTest!, folder, Console.Out);
Console.WriteLine();
Console.WriteLine($"Wrote {md}, {csv}, {png} and the long-range-*.png pictures of the models at T = {options.Lengths.Max()}. Total time {clock.Elapsed.TotalMinutes:F1} min.");
