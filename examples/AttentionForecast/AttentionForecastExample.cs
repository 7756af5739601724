using System.Diagnostics;
using SeqSharp.Examples.CnnLstmForecast;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Plotting;
using static TorchSharp.torch;

namespace SeqSharp.Examples.AttentionForecast;

/// <summary>How big a run is: the full example, or a quick one for tests.</summary>
/// <param name="Hours">Length of the generated series.</param>
/// <param name="Epochs">Training epochs of each model.</param>
/// <param name="Units">LSTM units of both models.</param>
/// <param name="Verbose">Fit's verbosity: 2 prints one line per epoch, 0 nothing.</param>
/// <param name="Seed">The seed of the data, the initial weights and the shuffling.</param>
public sealed record AttentionOptions(int Hours, int Epochs, int Units, int Verbose, int Seed = 7)
{
    /// <summary>The example as <c>dotnet run</c> runs it: 150 days of hourly data, as examples/CnnLstmForecast.</summary>
    public static AttentionOptions Full => new(Hours: 24 * 150, Epochs: 15, Units: 32, Verbose: 2);

    /// <summary>A few seconds' run for the tests.</summary>
    public static AttentionOptions Small => new(Hours: 24 * 40, Epochs: 4, Units: 16, Verbose: 0);
}

/// <summary>
/// Test-set errors in MW over all horizons (the attention model, a plain LSTM, "demand stays as
/// now", "same hours yesterday"), and the attention weights of the test windows,
/// <c>(samples, Horizon, Window)</c>: how much each forecast hour draws on each input hour.
/// </summary>
public sealed record AttentionResult(double AttentionRmse, double AttentionMae, double LstmRmse, double LstmMae,
    double PersistenceRmse, double PersistenceMae, double SeasonalRmse, double SeasonalMae, Tensor Scores, TimeSpan AttentionTime, TimeSpan LstmTime);

/// <summary>The attention forecaster and the model that returns its attention weights with the forecast.</summary>
/// <param name="Forecaster">Window → the next <see cref="AttentionForecastExample.Horizon"/> hours of demand.</param>
/// <param name="WithScores">Window → the forecast and the attention weights <c>(Horizon, Window)</c>, sharing the forecaster's layers.</param>
public sealed record AttentionModels(Model Forecaster, Model WithScores);

/// <summary>
/// An LSTM encoder with Luong (dot-product) attention forecasts the next six hours of electricity
/// demand from the last two days of (temperature, demand): one query per forecast hour, made from
/// the LSTM's final state, attends over the LSTM's 48 hourly outputs. Compared on held-out data with
/// a plain LSTM and the two naive forecasts of examples/CnnLstmForecast, on the same series.
/// </summary>
public static class AttentionForecastExample
{
    public const int Window = ForecastExample.Window;
    public const int Horizon = ForecastExample.Horizon;

    /// <summary>
    /// The attention forecaster, untrained, and the model that also returns its attention weights:
    /// LSTM (returnSequences, returnState) → a query per forecast hour from the final state →
    /// <see cref="Attention"/> over the LSTM's outputs → Dense(1) on [context, query] per hour.
    /// </summary>
    public static AttentionModels BuildAttentionModel(int units)
    {
        var inputs = new Input(shape: [Window, 2], name: "window");
        var (sequence, stateH, _) = new LSTM(units, returnSequences: true, returnState: true, name: "encoder").Apply(inputs);
        var queries = new Reshape([Horizon, units], name: "queries").Apply(new Dense(Horizon * units, name: "query_per_hour").Apply(stateH));
        var (context, scores) = new Attention(name: "attention").Apply([queries, sequence],
            callArgs: new Dictionary<string, object?> { ["return_attention_scores"] = true });
        var merged = new Concatenate(name: "context_and_query").Apply([context, queries]);        // (Horizon, 2 · units)
        var perHour = new Dense(1, name: "demand").Apply(merged);                                  // (Horizon, 1)
        var forecast = new Flatten(name: "forecast").Apply(perHour);                               // (Horizon)
        return new AttentionModels(new Model(inputs, forecast, name: "lstm_attention"),
            new Model(inputs, [forecast, scores], name: "lstm_attention_scores"));
    }

    /// <summary>The baseline, untrained: LSTM → Dense(Horizon).</summary>
    public static Sequential BuildLstmModel(int units)
    {
        var model = new Sequential(name: "plain_lstm");
        model.Add(new LSTM(units, inputShape: [Window, 2]));
        model.Add(new Dense(Horizon));
        return model;
    }

    /// <summary>Trains both models, compares them with the naive forecasts and, with <paramref name="folder"/>, draws the attention weights.</summary>
    public static AttentionResult Run(AttentionOptions options, TextWriter log, string? folder = null)
    {
        Utils.SetRandomSeed(options.Seed);
        var raw = tensor(DemandData.Generate(options.Hours, seed: options.Seed));

        // As examples/CnnLstmForecast: a chronological split, 70% train, 10% validation, 20% test,
        // standardized with the training part's mean and deviation.
        int trainEnd = (int)(options.Hours * 0.7), validationEnd = (int)(options.Hours * 0.8);
        var mean = raw[..trainEnd].mean([0]);
        var std = raw[..trainEnd].std([0]);
        var scaled = (raw - mean) / std;
        double demandMean = mean[1].item<float>(), demandStd = std[1].item<float>();
        var (xTrain, yTrain) = DemandData.Windows(scaled[..trainEnd], Window, Horizon);
        var (xValidation, yValidation) = DemandData.Windows(scaled[trainEnd..validationEnd], Window, Horizon);
        var (xTest, yTest) = DemandData.Windows(scaled[validationEnd..], Window, Horizon);
        log.WriteLine($"Hourly series of {options.Hours} h (temperature, demand; examples/CnnLstmForecast's generator, seed {options.Seed});");
        log.WriteLine($"windows of {Window} h → next {Horizon} h of demand. Samples: train {xTrain.shape[0]}, validation {xValidation.shape[0]}, test {xTest.shape[0]}.");
        log.WriteLine();

        var models = BuildAttentionModel(options.Units);
        models.Forecaster.Compile(optimizer: new Adam(learningRate: 0.003), loss: "mse", metrics: ["mae"]);
        models.Forecaster.Summary(log);
        log.WriteLine();
        var clock = Stopwatch.StartNew();
        models.Forecaster.Fit(xTrain, yTrain, epochs: options.Epochs, batchSize: 32, validationData: (xValidation, yValidation), verbose: options.Verbose);
        var attentionTime = clock.Elapsed;

        Utils.SetRandomSeed(options.Seed);
        var lstm = BuildLstmModel(options.Units);
        lstm.Compile(optimizer: new Adam(learningRate: 0.003), loss: "mse", metrics: ["mae"]);
        log.WriteLine();
        log.WriteLine($"Baseline {lstm.Name}: LSTM({options.Units}) → Dense({Horizon}), {lstm.CountParams():N0} parameters (attention model: {models.Forecaster.CountParams():N0}).");
        clock.Restart();
        lstm.Fit(xTrain, yTrain, epochs: options.Epochs, batchSize: 32, validationData: (xValidation, yValidation), verbose: options.Verbose);
        var lstmTime = clock.Elapsed;

        // Errors in MW on the test period. The forecast with its attention weights comes from the
        // second model, which shares the trained layers; its forecast is the forecaster's.
        var outputs = models.WithScores.PredictMulti(xTest, verbose: 0);
        var (attentionForecast, scores) = (outputs[0] * demandStd + demandMean, outputs[1]);
        var lstmForecast = lstm.Predict(xTest, verbose: 0) * demandStd + demandMean;
        var actual = yTest * demandStd + demandMean;
        var persistence = (xTest[.., -1, 1] * demandStd + demandMean).unsqueeze(1).expand_as(actual);                   // "the next hours = now"
        var seasonal = xTest[.., (Window - 24)..(Window - 24 + Horizon), 1] * demandStd + demandMean;                   // "same hours yesterday"
        static double Rmse(Tensor a, Tensor b) => (a - b).square().mean().sqrt().item<float>();
        static double Mae(Tensor a, Tensor b) => (a - b).abs().mean().item<float>();
        var result = new AttentionResult(Rmse(attentionForecast, actual), Mae(attentionForecast, actual), Rmse(lstmForecast, actual), Mae(lstmForecast, actual),
            Rmse(persistence, actual), Mae(persistence, actual), Rmse(seasonal, actual), Mae(seasonal, actual), scores, attentionTime, lstmTime);

        log.WriteLine();
        log.WriteLine($"Test errors over the next {Horizon} hours (MW; demand averages {actual.mean().item<float>():F0} MW, sd {actual.std().item<float>():F1}):");
        log.WriteLine("                                  RMSE     MAE   training");
        log.WriteLine($"  LSTM + attention                {result.AttentionRmse,6:F2}  {result.AttentionMae,6:F2}   {attentionTime.TotalSeconds,4:F0} s");
        log.WriteLine($"  plain LSTM                      {result.LstmRmse,6:F2}  {result.LstmMae,6:F2}   {lstmTime.TotalSeconds,4:F0} s");
        log.WriteLine($"  naive: demand stays as now      {result.PersistenceRmse,6:F2}  {result.PersistenceMae,6:F2}");
        log.WriteLine($"  naive: same hours yesterday     {result.SeasonalRmse,6:F2}  {result.SeasonalMae,6:F2}");

        // Where the attention goes: the mean weight of each input hour for each forecast hour.
        var meanScores = scores.mean([0]);                                                        // (Horizon, Window)
        log.WriteLine();
        log.WriteLine($"Mean attention over the test windows: from {meanScores.min().item<float>():P1} to {meanScores.max().item<float>():P1} per input hour (uniform: {1.0 / Window:P1}).");
        log.WriteLine("The three input hours each forecast hour draws on most");
        log.WriteLine($"(input hour {Window - 1} is the last one seen; hour h of the forecast is input hour {Window - 1} + h; a day earlier is h + {Window - 1 - 24}):");
        for (int h = 0; h < Horizon; h++)
        {
            var (values, indices) = meanScores[h].topk(3);
            var top = indices.data<long>().ToArray().Zip(values.data<float>().ToArray(), (i, w) => $"hour {i,2} ({w:P0})");
            log.WriteLine($"  +{h + 1}h  {string.Join(", ", top)}");
        }
        if (folder is not null)
        {
            string heatmap = Plots.Heatmap(Path.Combine(folder, "attention-weights.png"), meanScores,
                title: "Mean attention weight of each input hour, per forecast hour (test windows)",
                xLabel: $"input hour (0 = {Window} h before the forecast, {Window - 1} = the last hour seen)", yLabel: "forecast hour ahead − 1",
                colorBarLabel: "attention weight");
            string one = Plots.Heatmap(Path.Combine(folder, "attention-weights-sample0.png"), scores[0],
                title: "Attention weights of the first test window",
                xLabel: "input hour", yLabel: "forecast hour ahead − 1", colorBarLabel: "attention weight");
            log.WriteLine();
            log.WriteLine($"Wrote {heatmap} and {one}.");
        }
        return result;
    }
}
