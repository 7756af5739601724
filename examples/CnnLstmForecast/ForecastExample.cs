using SeqSharp.Layers;
using static TorchSharp.torch;

namespace SeqSharp.Examples.CnnLstmForecast;

/// <summary>How big a run is: the full example, or a quick one for tests.</summary>
/// <param name="Hours">Length of the generated series.</param>
/// <param name="Epochs">Training epochs.</param>
/// <param name="Verbose">Fit's verbosity: 2 prints one line per epoch, 0 nothing.</param>
public sealed record ForecastOptions(int Hours, int Epochs, int Verbose)
{
    /// <summary>The example as <c>dotnet run</c> runs it: 150 days of hourly data.</summary>
    public static ForecastOptions Full => new(Hours: 24 * 150, Epochs: 25, Verbose: 2);

    /// <summary>A few seconds' run for the tests.</summary>
    public static ForecastOptions Small => new(Hours: 24 * 60, Epochs: 8, Verbose: 0);
}

/// <summary>Test-set errors of the model and of the two naive forecasts, in MW, over all horizons.</summary>
public sealed record ForecastResult(double ModelRmse, double ModelMae, double PersistenceRmse, double SeasonalRmse, double[] ModelRmseByHour);

/// <summary>
/// Conv1D → MaxPooling1D → LSTM → Dense: forecasts the next six hours of electricity demand from
/// the last two days of temperature and demand.
/// </summary>
public static class ForecastExample
{
    public const int Window = 48;
    public const int Horizon = 6;

    /// <summary>The example's model, untrained: Conv1D (causal) → MaxPooling1D → LSTM → Dense.</summary>
    public static Sequential BuildModel()
    {
        var model = new Sequential();
        model.Add(new Conv1D(filters: 32, kernelSize: 3, padding: "causal", activation: "relu", inputShape: [Window, 2]));
        model.Add(new MaxPooling1D(poolSize: 2));
        model.Add(new LSTM(32));
        model.Add(new Dense(Horizon));
        return model;
    }

    public static ForecastResult Run(ForecastOptions options, TextWriter log)
    {
        Utils.SetRandomSeed(7);
        var raw = tensor(DemandData.Generate(options.Hours, seed: 7));

        // Chronological split (no shuffling across time): 70% train, 10% validation, 20% test.
        int trainEnd = (int)(options.Hours * 0.7), validationEnd = (int)(options.Hours * 0.8);
        var trainPart = raw[..trainEnd];
        var mean = trainPart.mean([0]);
        var std = trainPart.std([0]);
        var scaled = (raw - mean) / std;
        double demandMean = mean[1].item<float>(), demandStd = std[1].item<float>();

        var (xTrain, yTrain) = DemandData.Windows(scaled[..trainEnd], Window, Horizon);
        var (xValidation, yValidation) = DemandData.Windows(scaled[trainEnd..validationEnd], Window, Horizon);
        var (xTest, yTest) = DemandData.Windows(scaled[validationEnd..], Window, Horizon);
        log.WriteLine($"Hourly series of {options.Hours} h (temperature, demand); windows of {Window} h → next {Horizon} h of demand.");
        log.WriteLine($"Samples: train {xTrain.shape[0]}, validation {xValidation.shape[0]}, test {xTest.shape[0]}.");
        log.WriteLine();

        var model = BuildModel();
        model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae"]);
        model.Summary(log);

        log.WriteLine();
        model.Fit(xTrain, yTrain, epochs: options.Epochs, batchSize: 32, validationData: (xValidation, yValidation), verbose: options.Verbose);

        // Errors in MW on the test period.
        var predicted = model.Predict(xTest, verbose: 0) * demandStd + demandMean;
        var actual = yTest * demandStd + demandMean;
        var lastDemand = xTest[.., -1, 1] * demandStd + demandMean;                 // "the next hours = now"
        var persistence = lastDemand.unsqueeze(1).expand_as(actual);
        var seasonal = xTest[.., (Window - 24)..(Window - 24 + Horizon), 1] * demandStd + demandMean;   // "same hours yesterday"

        static double Rmse(Tensor a, Tensor b) => (a - b).square().mean().sqrt().item<float>();
        var byHour = Enumerable.Range(0, Horizon).Select(h => Rmse(predicted[.., h], actual[.., h])).ToArray();
        var result = new ForecastResult(Rmse(predicted, actual), (predicted - actual).abs().mean().item<float>(),
            Rmse(persistence, actual), Rmse(seasonal, actual), byHour);

        log.WriteLine();
        log.WriteLine($"Test RMSE over the next {Horizon} hours (MW; demand averages {actual.mean().item<float>():F0} MW, sd {actual.std().item<float>():F1}):");
        log.WriteLine($"  CNN-LSTM                        {result.ModelRmse,6:F2}   (MAE {result.ModelMae:F2})");
        log.WriteLine($"  naive: demand stays as now      {result.PersistenceRmse,6:F2}");
        log.WriteLine($"  naive: same hours yesterday     {result.SeasonalRmse,6:F2}");
        log.WriteLine($"  CNN-LSTM by hour ahead          {string.Join("  ", byHour.Select((r, h) => $"+{h + 1}h {r:F2}"))}");
        log.WriteLine();
        log.WriteLine("First test window: forecast vs actual demand (MW)");
        for (int h = 0; h < Horizon; h++)
            log.WriteLine($"  +{h + 1}h  {predicted[0, h].item<float>(),7:F1}  {actual[0, h].item<float>(),7:F1}");
        return result;
    }
}
