// Trains two small models and draws the images of docs/plotting.md into docs/images/.
using SeqSharp;
using SeqSharp.Examples;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Plotting;
using static TorchSharp.torch;

string folder = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../.."));   // docs/images
Utils.SetRandomSeed(42);

// 1. The LstmSequence example, smaller: noisy sine readings in, the clean next value out.
var (xTrain, yTrain) = SineWaveData.Generate(samples: 1000);
var model = new Sequential();
model.Add(new LSTM(units: 16, inputShape: [SineWaveData.Steps, 1], returnSequences: true));
model.Add(new Dense(1));
model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae"]);
History history = model.Fit(xTrain, yTrain, epochs: 15, batchSize: 32, validationSplit: 0.2, verbose: 0);
Console.WriteLine(history.Plot(Path.Combine(folder, "history.png"), "loss", "mae"));

// 2. One long noisy sine cut into sliding windows; each window's last output forecasts the next clean value.
const int Length = 80;
var t = arange(Length + SineWaveData.Steps + 1, dtype: ScalarType.Float32);
var clean = sin(0.3f * t);
var noisy = clean + 0.1f * randn(clean.shape);
var windows = stack([.. Enumerable.Range(0, Length).Select(s => noisy[s..(s + SineWaveData.Steps)])]).unsqueeze(-1);   // (80, 10, 1)
var forecast = model.Predict(windows, verbose: 0)[.., -1, 0];                                                          // (80)
var target = clean[(SineWaveData.Steps)..(SineWaveData.Steps + Length)];
var naive = noisy[(SineWaveData.Steps - 1)..(SineWaveData.Steps - 1 + Length)];
Console.WriteLine(Plots.PredictionsVsTargets(Path.Combine(folder, "predictions.png"), forecast, target,
    title: "LSTM one-step forecast of a noisy sine",
    extraSeries: new Dictionary<string, double[]> { ["naive (last reading)"] = [.. naive.data<float>().Select(v => (double)v)] }));

// 3. The trained LSTM's forget gate over a 40-step sine, computed from its weights (Keras layout, gates i, f, c, o).
var weights = model.Layers[0].GetWeights();   // kernel (1, 64), recurrent_kernel (16, 64), bias (64)
int units = 16;
var h = zeros(1, units);
var c = zeros(1, units);
var forget = new List<Tensor>();
foreach (int step in Enumerable.Range(0, 40))
{
    var z = noisy[step].reshape(1, 1).matmul(weights[0]) + h.matmul(weights[1]) + weights[2];
    var gates = z.chunk(4, dim: 1);
    var (i, f, g, o) = (sigmoid(gates[0]), sigmoid(gates[1]), tanh(gates[2]), sigmoid(gates[3]));
    c = f * c + i * g;
    h = o * tanh(c);
    forget.Add(f[0]);
}
Console.WriteLine(Plots.GateHeatmap(Path.Combine(folder, "forget-gate.png"), stack(forget), title: "LSTM forget gate over a noisy sine"));

// 4. Occlusion attribution: a model that must output signal[9] - signal[3] from 12 steps of three random features.
var x = randn(1500, 12, 3);
var y = (x[.., 9, 0] - x[.., 3, 0]).unsqueeze(1);
var reader = new Sequential();
reader.Add(new LSTM(units: 16, inputShape: [12, 3]));
reader.Add(new Dense(1));
reader.Compile(optimizer: new Adam(learningRate: 0.01), loss: "mse");
var readerHistory = reader.Fit(x, y, epochs: 40, batchSize: 32, verbose: 0);
Console.WriteLine($"reader: loss {readerHistory["loss"][^1]:F4} (target variance 2)");
var sample = x[..1];
double baseline = reader.Predict(sample, verbose: 0).item<float>();
var attribution = zeros(12, 3);
for (int step = 0; step < 12; step++)
{
    for (int feature = 0; feature < 3; feature++)
    {
        var occluded = sample.clone();
        occluded[0, step, feature] = tensor(0f);
        attribution[step, feature] = tensor((float)(baseline - reader.Predict(occluded, verbose: 0).item<float>()));
    }
}
Console.WriteLine(Plots.AttributionHeatmap(Path.Combine(folder, "attribution.png"), attribution,
    featureNames: ["signal", "distractor A", "distractor B"], title: "Occlusion attribution (target: signal[9] - signal[3])",
    height: 360));
