// Sentiment classification with masking: sentences of different lengths are turned into word
// indices, padded with zeros to one length, and fed to Embedding(maskZero: true), so the
// bidirectional LSTM skips the padding. The generated reviews contain negations and "X but Y"
// contrasts, which need word order to classify.
using SeqSharp.Examples.SentimentLstm;

// Models this small train fastest on one CPU thread: LibTorch's intra-op threads cost more than
// they save on small matrices, and on a busy machine their synchronisation can slow training
// down many times over. (TorchSharp is called before any SeqSharp type here, so the native
// library is loaded first, as docs/native-loading.md explains.)
SeqSharp.Native.TorchNative.EnsureLoaded();
TorchSharp.torch.set_num_threads(1);
SentimentExample.Run(args.Contains("--small") ? SentimentOptions.Small : SentimentOptions.Full, Console.Out);
