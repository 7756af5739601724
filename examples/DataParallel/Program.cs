// Data-parallel training of an LSTM forecaster: the same script runs alone or under MPI.
//
//   dotnet run --project examples/DataParallel                      # one process
//   dotnet build examples/DataParallel
//   mpirun -np 2 dotnet examples/DataParallel/bin/Debug/net10.0/DataParallel.dll
//   (as root: mpirun --allow-run-as-root; more ranks than cores: --oversubscribe; see docs/distributed.md)
//
// Options: --samples N (default 4096), --epochs N (3), --batch N (global batch, 128), --units N (32),
// --steps N (time steps, 24), --threads N (TorchSharp threads per process), --throughput (print samples per
// second), --allreduce (measure the allreduce cost instead of training), --die-on-rank R (that rank fails),
// --source (train on a TimeseriesDataset, a batch source from which each rank gathers only its windows),
// --layers N (stacked LSTM layers, 1), --bucket BYTES (gradient bytes per allreduce, 16 MiB), --overlap (start
// each bucket's allreduce during the backward pass; with --throughput it prints the time per step).
//
// Every rank ends with one line "rank R/N: loss L, weights sha256 H": the weights are bit-identical on
// every rank, and the losses match a single process trained on the same global batches.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using SeqSharp;
using SeqSharp.Distributed;
using SeqSharp.Layers;
using static TorchSharp.torch;

var invariant = CultureInfo.InvariantCulture;
int Option(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], invariant) : fallback;
}
int samples = Option("--samples", 4096), epochs = Option("--epochs", 3), batch = Option("--batch", 128);
int units = Option("--units", 32), steps = Option("--steps", 24);
bool throughput = args.Contains("--throughput");
if (Option("--threads", 0) is int threads and > 0)
    set_num_threads(threads);

using var distribution = new DataParallel(bucketBytes: Option("--bucket", 16 << 20)) { OverlapGradients = args.Contains("--overlap") };
Distribution.Set(distribution);
bool chief = distribution.IsChief;
if (chief)
    Console.WriteLine($"{distribution.WorldSize} process(es), {distribution.Communicator.Engine}, {get_num_threads()} thread(s) each; global batch {batch}, {samples} samples of ({steps}, 3)");

if (args.Contains("--allreduce"))
{
    // The cost of one in-place allreduce of float32 buffers, median of 30 calls per size, and its fit
    // t = alpha + beta * bytes by least squares (docs/distributed.md).
    var sizes = new[] { 256, 4096, 65536, 262144, 1 << 20, 4 << 20 };
    var fit = new List<(double Bytes, double Seconds)>();
    foreach (int n in sizes)
    {
        var buffer = new float[n];
        var times = new List<double>();
        for (int k = 0; k < 35; k++)
        {
            distribution.Communicator.Barrier();
            var c = Stopwatch.StartNew();
            distribution.Communicator.AllreduceSum(buffer.AsSpan());
            if (k >= 5)
                times.Add(c.Elapsed.TotalSeconds);
        }
        times.Sort();
        double median = times[times.Count / 2];
        fit.Add((4.0 * n, median));
        if (chief)
            Console.WriteLine(string.Create(invariant, $"allreduce {n,8} floats ({4.0 * n / 1048576,7:F3} MiB): {median * 1e6,9:F1} us, {4.0 * n / median / 1e9,6:F2} GB/s"));
    }
    double mx = fit.Average(p => p.Bytes), my = fit.Average(p => p.Seconds);
    double beta = fit.Sum(p => (p.Bytes - mx) * (p.Seconds - my)) / fit.Sum(p => (p.Bytes - mx) * (p.Bytes - mx));
    double alpha = my - beta * mx;
    if (chief)
        Console.WriteLine(string.Create(invariant, $"fit: alpha {alpha * 1e6:F1} us + beta {beta * 1e9:F3} ns/byte ({1 / beta / 1e9:F2} GB/s)"));
    return;
}

// The data: every rank makes the same series (same seed) and takes its share of each global batch.
// Three noisy sines of different periods; the target is the first one's next value.
Utils.SetRandomSeed(7);
var time = arange(samples + steps + 1, dtype: ScalarType.Float32);
var series = stack([sin(time * 0.11f), sin(time * 0.037f + 1), cos(time * 0.23f)], 1) + 0.05f * randn(samples + steps + 1, 3);
var windows = series.unfold(0, steps, 1).permute(0, 2, 1)[..samples];   // (samples, steps, 3)
var targets = series[steps..(samples + steps), 0..1];                     // (samples, 1)

var model = new Sequential();
int layers = Option("--layers", 1);
for (int l = 0; l < layers; l++)
    model.Add(l == 0 ? new LSTM(units, returnSequences: layers > 1, inputShape: [steps, 3]) : new LSTM(units, returnSequences: l < layers - 1));
model.Add(new Dense(1));
model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae"]);

// --die-on-rank R: that rank throws after its first epoch, as a crashed worker would (docs/distributed.md).
int dieOnRank = Option("--die-on-rank", -1);
var callbacks = new List<SeqSharp.Callbacks.Callback>();
if (dieOnRank == distribution.Rank)
    callbacks.Add(new SeqSharp.Callbacks.LambdaCallback(onEpochEnd: (_, _) => throw new InvalidOperationException($"rank {dieOnRank} stops here on purpose (--die-on-rank)")));

var clock = Stopwatch.StartNew();
History history;
if (args.Contains("--source"))
{
    // The same windows as a batch source: batch order shuffled each epoch (rank 0's order on every rank),
    // and each rank cuts only its share of the windows of every global batch.
    using var source = Utils.TimeseriesDataset(series[..(samples + steps - 1)], series[steps.., 0..1], sequenceLength: steps, batchSize: batch);
    history = model.Fit(source, epochs: epochs, verbose: chief ? 2 : 0, callbacks: callbacks);
}
else
{
    history = model.Fit(windows, targets, batchSize: batch, epochs: epochs, verbose: chief ? 2 : 0, callbacks: callbacks);
}
double seconds = clock.Elapsed.TotalSeconds;

if (throughput && chief)
{
    int stepsPerEpoch = (samples + batch - 1) / batch;
    Console.WriteLine(string.Create(invariant, $"throughput: {samples * epochs / seconds:F0} samples/s in all ({seconds:F2} s for {epochs} epochs, {seconds / (epochs * stepsPerEpoch) * 1e3:F2} ms per step)"));
    if (distribution.WorldSize > 1)
        Console.WriteLine(string.Create(invariant,
            $"gradient allreduce calls: {distribution.GradientCalls}, started during backward: {distribution.OverlappedCalls}; time in gradient sums {distribution.GradientTime.TotalMilliseconds / (epochs * stepsPerEpoch):F3} ms per step"));
}

using var sha = SHA256.Create();
foreach (var w in model.GetWeights())
{
    var bytes = MemoryMarshal.AsBytes(w.contiguous().data<float>().ToArray().AsSpan()).ToArray();
    sha.TransformBlock(bytes, 0, bytes.Length, null, 0);
}
sha.TransformFinalBlock([], 0, 0);
double loss = history["loss"][^1];
Console.WriteLine(string.Create(invariant,
    $"rank {distribution.Rank}/{distribution.WorldSize}: loss {loss:R}, weights sha256 {Convert.ToHexString(sha.Hash!).ToLowerInvariant()}"));
