// Forecasts a monthly series one step ahead with an LSTM and compares it with naive forecasts.
// series.csv holds the data (columns date,value); replace it with your own series. Steps:
// load the column, scale it with statistics of the training part only, cut 12-step windows,
// train, forecast the last 24 steps from the true history, compare, and plot.
// Run: dotnet run            (100 epochs)
//      dotnet run -- --epochs 1
using SeqSharp;
using SeqSharp.Data;
using SeqSharp.Layers;
using SeqSharp.Plotting;
using SeqSharp.Preprocessing;
using static TorchSharp.torch;

const int Window = 12;     // steps the model sees
const int TestSteps = 24;  // steps held out at the end
int epochs = args.Length >= 2 && args[0] == "--epochs" ? int.Parse(args[1]) : 100;

Utils.SetRandomSeed(42);
double[] series = Csv.LoadColumn(Path.Combine(AppContext.BaseDirectory, "series.csv"), "value");
int testStart = series.Length - TestSteps;

var values = tensor(series).unsqueeze(1);                          // (steps, 1)
var scaler = new MinMaxScaler(featureRange: (-1, 1));
scaler.Fit(values[..testStart]);                                     // the training part only
var scaled = scaler.Transform(values).to_type(ScalarType.Float32);

// Window i holds steps i .. i+11; its target is step i+12.
var targets = scaled[Window..];
var (xTrain, yTrain) = Utils.TimeseriesDataset(scaled, targets, Window, endIndex: testStart - 1).ToTensors();
var (xTest, _) = Utils.TimeseriesDataset(scaled, targets, Window, startIndex: testStart - Window, endIndex: series.Length - 1).ToTensors();
if (xTest.shape[0] != TestSteps)
    throw new InvalidOperationException($"Expected {TestSteps} test windows. Received: {xTest.shape[0]}.");
Console.WriteLine($"{series.Length} steps; windows of {Window}: {xTrain.shape[0]} for training, {TestSteps} for the test.");

var model = new Sequential();
model.Add(new LSTM(32, inputShape: [Window, 1]));
model.Add(new Dense(1));
model.Compile(optimizer: "adam", loss: "mse");
model.Summary();
History history = model.Fit(xTrain, yTrain!, epochs: epochs, batchSize: 16, validationSplit: 0.1, verbose: 2);

using var predictedScaled = model.Predict(xTest, verbose: 0).to_type(ScalarType.Float64);
double[] predicted = scaler.InverseTransform(predictedScaled).data<double>().ToArray();
double[] actual = series[testStart..];
double[] lastValue = series[(testStart - 1)..^1];                       // naive: the previous step
double[] lastSeason = series[(testStart - Window)..(series.Length - Window)];   // seasonal naive: 12 steps back

static double Rmse(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (p, q) => (p - q) * (p - q)).Average());
Console.WriteLine($"RMSE over the last {TestSteps} steps, one step ahead:");
Console.WriteLine($"  LSTM             {Rmse(predicted, actual),8:F2}");
Console.WriteLine($"  previous step    {Rmse(lastValue, actual),8:F2}");
Console.WriteLine($"  12 steps back    {Rmse(lastSeason, actual),8:F2}");

history.Plot("loss.png", "loss");
Plots.PredictionsVsTargets("forecast.png", predicted, actual, title: "One step ahead: LSTM against the series",
    extraSeries: new Dictionary<string, double[]> { ["12 steps back"] = lastSeason });
model.Save("forecast.keras");
Console.WriteLine("Wrote loss.png, forecast.png and forecast.keras.");
