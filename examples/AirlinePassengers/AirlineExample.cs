using SeqSharp.Data;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Plotting;
using SeqSharp.Preprocessing;
using static TorchSharp.torch;

namespace SeqSharp.Examples.AirlinePassengers;

/// <summary>How big a run is: the full example, or a quick one for tests.</summary>
/// <param name="Epochs">Training epochs.</param>
/// <param name="Units">LSTM units.</param>
/// <param name="Verbose">Fit's verbosity: 2 prints one line per epoch, 0 nothing.</param>
/// <param name="Seed">The seed of the initial weights and the shuffling.</param>
public sealed record AirlineOptions(int Epochs, int Units, int Verbose, int Seed = 7)
{
    /// <summary>The example as <c>dotnet run</c> runs it.</summary>
    public static AirlineOptions Full => new(Epochs: 300, Units: 32, Verbose: 0);

    /// <summary>A few seconds' run for the tests.</summary>
    public static AirlineOptions Small => new(Epochs: 60, Units: 16, Verbose: 0);
}

/// <summary>
/// Errors over the 24 test months, in thousands of passengers, and the forecasts themselves
/// (index 0 is 1959-01): the model, the seasonal-naive forecast <c>y[t−12]</c>, the naive
/// "last month's yearly growth continues" <c>y[t−12] · y[t−1] / y[t−13]</c>, and the training mean.
/// </summary>
public sealed record AirlineResult(double ModelRmse, double SeasonalNaiveRmse, double GrowthNaiveRmse, double MeanRmse,
    double[] Actual, double[] Predicted, double[] SeasonalNaive);

/// <summary>
/// Forecasts the monthly airline passengers of 1959-1960 one month ahead with an LSTM, against the
/// seasonal-naive forecast (the same month last year).
/// </summary>
/// <remarks>
/// The series grows about 10% a year and its seasonal swing grows with it, so the last two years
/// lie above everything seen in training. Rather than extrapolate levels, the model works on the
/// yearly log growth <c>g[t] = ln y[t] − ln y[t−12]</c>: from the last 12 months of growth it
/// predicts this month's, and the forecast is <c>y[t−12] · exp(ĝ[t])</c>. The seasonal-naive
/// forecast is the special case <c>ĝ = 0</c>, so the LSTM beats it exactly when it predicts growth
/// better than "no growth".
/// </remarks>
public static class AirlineExample
{
    public const int Window = 12;
    public const int TestMonths = 24;

    /// <summary>The CSV next to the program (copied to the output folder by the project).</summary>
    public static string DataPath => Path.Combine(AppContext.BaseDirectory, "airline-passengers.csv");

    /// <summary>Trains, forecasts and prints the comparison; with <paramref name="plotPath"/>, also draws the forecasts as a PNG.</summary>
    /// <summary>The example's model, untrained: LSTM → Dense on windows of <see cref="Window"/> months.</summary>
    public static Sequential BuildModel(int units)
    {
        var model = new Sequential();
        model.Add(new LSTM(units, inputShape: [Window, 1]));
        model.Add(new Dense(1));
        return model;
    }

    public static AirlineResult Run(AirlineOptions options, TextWriter log, string? dataPath = null, string? plotPath = null)
    {
        Utils.SetRandomSeed(options.Seed);
        double[] passengers = Csv.LoadColumn(dataPath ?? DataPath, "passengers");   // thousands, 1949-01 .. 1960-12
        int months = passengers.Length, testStart = months - TestMonths;

        // Yearly log growth; growth[k] belongs to month k + 12.
        var growth = tensor(Enumerable.Range(Window, months - Window)
            .Select(t => Math.Log(passengers[t] / passengers[t - Window])).ToArray()).unsqueeze(1);
        int trainGrowth = testStart - Window;                            // growth values of months before the test period
        var scaler = new MinMaxScaler(featureRange: (-1, 1));
        scaler.Fit(growth[..trainGrowth]);                               // training months only
        var scaled = scaler.Transform(growth).to_type(ScalarType.Float32);

        // The window starting at growth index k holds months k + 12 .. k + 23 and predicts month k + 24.
        // Training targets end at the last training month (k + 24 < testStart); test windows predict
        // the 24 test months from the true history before each (one step ahead, no forecasts fed back).
        var targets = scaled[Window..];
        var (xTrain, yTrain) = Utils.TimeseriesDataset(scaled, targets, Window, endIndex: trainGrowth - 1).ToTensors();
        var (xTest, _) = Utils.TimeseriesDataset(scaled, targets, Window,
            startIndex: trainGrowth - Window, endIndex: months - Window - 1).ToTensors();
        log.WriteLine($"Monthly airline passengers 1949-01 .. 1960-12 ({months} months, thousands).");
        log.WriteLine($"Model input: the last {Window} months of yearly log growth, scaled to [-1, 1] on the training months;");
        log.WriteLine($"output: this month's growth. Windows: train {xTrain.shape[0]} (targets up to 1958-12), test {xTest.shape[0]} (1959-01 .. 1960-12).");
        log.WriteLine();

        var model = BuildModel(options.Units);
        model.Compile(optimizer: new Adam(learningRate: 1e-3), loss: "mse");
        model.Summary(log);
        log.WriteLine();
        model.Fit(xTrain, yTrain!, epochs: options.Epochs, batchSize: 16, verbose: options.Verbose);

        using var predictedGrowth = scaler.InverseTransform(model.Predict(xTest, verbose: 0).to_type(ScalarType.Float64));
        var growthHat = predictedGrowth.data<double>().ToArray();
        var actual = passengers[testStart..];
        var seasonal = passengers[(testStart - Window)..(months - Window)];
        var predicted = seasonal.Select((lastYear, i) => lastYear * Math.Exp(growthHat[i])).ToArray();
        var growthNaive = Enumerable.Range(testStart, TestMonths)
            .Select(t => passengers[t - Window] * passengers[t - 1] / passengers[t - 1 - Window]).ToArray();
        double trainMean = passengers[..testStart].Average();

        static double Rmse(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (p, q) => (p - q) * (p - q)).Average());
        var result = new AirlineResult(Rmse(predicted, actual), Rmse(seasonal, actual), Rmse(growthNaive, actual), Rmse(actual.Select(_ => trainMean).ToArray(), actual),
            actual, predicted, seasonal);

        log.WriteLine("Month     actual   LSTM   same month last year");
        for (int i = 0; i < TestMonths; i++)
            log.WriteLine($"{1959 + i / 12}-{i % 12 + 1:D2}   {actual[i],6:F0} {predicted[i],6:F0} {seasonal[i],8:F0}");
        log.WriteLine();
        log.WriteLine($"RMSE over 1959-1960, one month ahead from the true history (thousands of passengers; mean {actual.Average():F0}):");
        log.WriteLine($"  LSTM on yearly growth          {result.ModelRmse,6:F1}");
        log.WriteLine($"  seasonal naive (last year)     {result.SeasonalNaiveRmse,6:F1}");
        log.WriteLine($"  naive: last month's growth     {result.GrowthNaiveRmse,6:F1}   (y[t-12] * y[t-1] / y[t-13])");
        log.WriteLine($"  training mean                  {result.MeanRmse,6:F1}");
        log.WriteLine(result.ModelRmse < result.SeasonalNaiveRmse
            ? $"The LSTM beats the seasonal-naive forecast by {1 - result.ModelRmse / result.SeasonalNaiveRmse:P0}."
            : "The LSTM does not beat the seasonal-naive forecast on this run.");
        log.WriteLine(Math.Abs(result.ModelRmse - result.GrowthNaiveRmse) < 0.05 * result.GrowthNaiveRmse
            ? "It is about as good as carrying last month's yearly growth forward: that is most of what it learned."
            : result.ModelRmse < result.GrowthNaiveRmse
                ? $"It also beats carrying last month's yearly growth forward, by {1 - result.ModelRmse / result.GrowthNaiveRmse:P0}."
                : $"Carrying last month's yearly growth forward does better, by {1 - result.GrowthNaiveRmse / result.ModelRmse:P0}.");
        if (plotPath is not null)
        {
            // The time axis in years: 1959.0 is January 1959, 1959.5 July.
            var years = Enumerable.Range(0, TestMonths).Select(m => 1959 + m / 12.0).ToArray();
            string written = Plots.PredictionsVsTargets(plotPath, predicted, actual,
                title: $"Passengers, one month ahead: LSTM RMSE {result.ModelRmse:F1}, seasonal naive {result.SeasonalNaiveRmse:F1}",
                x: years, xLabel: "year", yLabel: "passengers (thousands)",
                extraSeries: new Dictionary<string, double[]> { ["seasonal naive"] = seasonal });
            log.WriteLine($"Wrote {written}.");
        }
        return result;
    }
}
