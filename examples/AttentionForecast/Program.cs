// An LSTM with Luong attention (the Functional API) forecasts the next six hours of electricity
// demand from two days of hourly (temperature, demand), against a plain LSTM and the naive
// forecasts, on examples/CnnLstmForecast's series; the attention weights are drawn as heatmaps.
// Options: --small (a quick run), --out <folder> for attention-weights*.png (default: the current folder).
using SeqSharp.Examples.AttentionForecast;

// Small recurrent models train fastest on one LibTorch thread (see examples/CnnLstmForecast).
SeqSharp.Native.TorchNative.EnsureLoaded();
TorchSharp.torch.set_num_threads(1);
int outAt = Array.IndexOf(args, "--out");
string folder = outAt >= 0 && outAt + 1 < args.Length ? args[outAt + 1] : Directory.GetCurrentDirectory();
var clock = System.Diagnostics.Stopwatch.StartNew();
AttentionForecastExample.Run(args.Contains("--small") ? AttentionOptions.Small : AttentionOptions.Full, Console.Out, folder);
Console.WriteLine();
Console.WriteLine($"Total time {clock.Elapsed.TotalSeconds:F0} s.");
