// A CNN-LSTM forecaster, one of the combinations the reference document names as open ground:
// a causal Conv1D extracts short patterns from two days of hourly (temperature, demand) readings,
// max pooling halves the sequence, an LSTM summarises it, and a Dense layer forecasts the next
// six hours of demand. The result is compared with the two forecasts any analyst tries first.
using SeqSharp.Examples.CnnLstmForecast;

// Models this small train fastest on one CPU thread: LibTorch's intra-op threads cost more than
// they save on small matrices, and on a busy machine their synchronisation can slow training
// down many times over. (TorchSharp is called before any SeqSharp type here, so the native
// library is loaded first, as docs/native-loading.md explains.)
SeqSharp.Native.TorchNative.EnsureLoaded();
TorchSharp.torch.set_num_threads(1);
ForecastExample.Run(args.Contains("--small") ? ForecastOptions.Small : ForecastOptions.Full, Console.Out);
