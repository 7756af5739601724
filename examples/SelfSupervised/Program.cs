// Self-supervised pretraining, the reference document's third answer to "LSTMs are hard to interpret
// and need data": an LSTM encoder learns from unlabelled sequences by reconstructing hidden steps,
// then a classifier built on it is fine-tuned on 1%, 10% and 100% of the labels and compared with
// the same classifier trained from scratch, over several seeds. The data are synthetic waveforms
// with a documented generating rule (WaveformData.cs). Option: --small (one seed, well under a minute).
using System.Diagnostics;
using SeqSharp.Examples.SelfSupervised;

// Small recurrent models train fastest on one LibTorch thread (see examples/CnnLstmForecast).
SeqSharp.Native.TorchNative.EnsureLoaded();
TorchSharp.torch.set_num_threads(1);

var clock = Stopwatch.StartNew();
SelfSupervisedExample.Run(args.Contains("--small") ? SelfSupervisedOptions.Small : SelfSupervisedOptions.Full, Console.Out);
Console.WriteLine();
Console.WriteLine($"Total time {clock.Elapsed.TotalSeconds:F0} s.");
