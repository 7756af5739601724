// The stacked-GRU weather script of Keras users (Chollet's Jena climate forecaster: an endless
// generator of random windows, fit with steps_per_epoch and validation_steps, GRU layers with
// dropout and recurrent_dropout on input_shape=(None, features), against a naive baseline),
// translated line by line to C#. The Jena file is not shipped, so it runs on a synthetic record with
// its layout (ten-minute rows of its fourteen readings; see JenaLikeSeries and docs/keras-to-seqsharp.md).
//
//   dotnet run --project examples/JenaClimate                    # the short run (well under a minute)
//   dotnet run --project examples/JenaClimate -- --long          # the script's sizes: more steps and epochs
//   dotnet run --project examples/JenaClimate -- --epochs 30 --steps 50 --seed 3
using System.Globalization;
using SeqSharp.Examples.JenaClimate;

// Small recurrent models train fastest on one LibTorch thread (see examples/CnnLstmForecast).
SeqSharp.Native.TorchNative.EnsureLoaded();
TorchSharp.torch.set_num_threads(1);
var options = args.Contains("--long") ? JenaOptions.Long : JenaOptions.Short;
int? Number(string name)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : null;
}
options = options with
{
    Epochs = Number("--epochs") ?? options.Epochs,
    StepsPerEpoch = Number("--steps") ?? options.StepsPerEpoch,
    Seed = Number("--seed") ?? options.Seed,
};
JenaExample.Run(options, Console.Out);
