// Keras's sequence-to-sequence example with the Functional API: an LSTM encoder reads five digits,
// its final states (returnState) start an LSTM decoder (initialState) trained with teacher forcing
// to write them reversed; then an inference encoder and a one-step decoder, built from the trained
// layers, decode held-out sequences greedily. --small runs a quick version (3 digits).
using SeqSharp.Examples.Seq2SeqReverse;

// Small recurrent models train fastest on one LibTorch thread (see examples/CnnLstmForecast).
SeqSharp.Native.TorchNative.EnsureLoaded();
TorchSharp.torch.set_num_threads(1);
var clock = System.Diagnostics.Stopwatch.StartNew();
Seq2SeqExample.Run(args.Contains("--small") ? Seq2SeqOptions.Small : Seq2SeqOptions.Full, Console.Out);
Console.WriteLine();
Console.WriteLine($"Total time {clock.Elapsed.TotalSeconds:F0} s.");
