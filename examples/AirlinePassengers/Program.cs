// Monthly airline passengers (Box & Jenkins, 1949-1960): an LSTM forecasts each month of 1959 and
// 1960 one month ahead, from the true history, and is compared with the seasonal-naive forecast.
// Shows the data helpers: Csv.LoadColumn, MinMaxScaler fitted on the training months only, and
// Utils.TimeseriesDataset for the 12-month windows. --small runs a quick version; the plot of the
// forecasts goes to airline-forecast.png in the folder given by --out (default: the current folder);
// --seed N changes the seed of the initial weights (default 7).
using SeqSharp.Examples.AirlinePassengers;

// Small recurrent models train fastest on one LibTorch thread (see examples/CnnLstmForecast).
SeqSharp.Native.TorchNative.EnsureLoaded();
TorchSharp.torch.set_num_threads(1);
int outAt = Array.IndexOf(args, "--out");
string folder = outAt >= 0 && outAt + 1 < args.Length ? args[outAt + 1] : Directory.GetCurrentDirectory();
int seedAt = Array.IndexOf(args, "--seed");
var options = args.Contains("--small") ? AirlineOptions.Small : AirlineOptions.Full;
if (seedAt >= 0 && seedAt + 1 < args.Length)
    options = options with { Seed = int.Parse(args[seedAt + 1], System.Globalization.CultureInfo.InvariantCulture) };
AirlineExample.Run(options, Console.Out,
    plotPath: Path.Combine(folder, "airline-forecast.png"));
