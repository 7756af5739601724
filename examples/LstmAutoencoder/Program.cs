// An LSTM autoencoder for anomaly detection, the document's "combining LSTM with autoencoders":
// LSTM encoder → RepeatVector → LSTM decoder → TimeDistributed(Dense), trained to reproduce
// normal sensor sequences. Faulty sequences (spikes, level shifts, noise bursts, a stuck sensor)
// are reproduced badly; their reconstruction error above a threshold raises an alarm.
using SeqSharp.Examples.LstmAutoencoder;

// Models this small train fastest on one CPU thread: LibTorch's intra-op threads cost more than
// they save on small matrices, and on a busy machine their synchronisation can slow training
// down many times over. (TorchSharp is called before any SeqSharp type here, so the native
// library is loaded first, as docs/native-loading.md explains.)
SeqSharp.Native.TorchNative.EnsureLoaded();
TorchSharp.torch.set_num_threads(1);
AutoencoderExample.Run(args.Contains("--small") ? AutoencoderOptions.Small : AutoencoderOptions.Full, Console.Out);
