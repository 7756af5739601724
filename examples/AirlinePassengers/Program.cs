// Monthly airline passengers (Box & Jenkins, 1949-1960): an LSTM forecasts each month of 1959 and
// 1960 one month ahead, from the true history, and is compared with the seasonal-naive forecast.
// Shows the data helpers: Csv.LoadColumn, MinMaxScaler fitted on the training months only, and
// Utils.TimeseriesDataset for the 12-month windows. --small runs a quick version.
using SeqSharp.Examples.AirlinePassengers;

// Small recurrent models train fastest on one LibTorch thread (see examples/CnnLstmForecast).
SeqSharp.Native.TorchNative.EnsureLoaded();
TorchSharp.torch.set_num_threads(1);
AirlineExample.Run(args.Contains("--small") ? AirlineOptions.Small : AirlineOptions.Full, Console.Out);
