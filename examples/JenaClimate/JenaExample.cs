using SeqSharp.Data;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Regularizers;
using static TorchSharp.torch;

namespace SeqSharp.Examples.JenaClimate;

/// <summary>How big a run is.</summary>
/// <param name="Epochs">Training epochs (the Keras script's <c>epochs</c>).</param>
/// <param name="StepsPerEpoch">Batches drawn from the endless generator per epoch (<c>steps_per_epoch</c>).</param>
/// <param name="Verbose">Fit's verbosity: 2 prints one line per epoch, 0 nothing.</param>
/// <param name="Seed">The seed of the initial weights, dropout masks and the generator's draws.</param>
public sealed record JenaOptions(int Epochs, int StepsPerEpoch, int Verbose, int Seed = 7)
{
    /// <summary>What <c>dotnet run</c> runs.</summary>
    public static JenaOptions Short => new(Epochs: 20, StepsPerEpoch: 10, Verbose: 2);

    /// <summary><c>--long</c>: ten times the steps.</summary>
    public static JenaOptions Long => new(Epochs: 40, StepsPerEpoch: 50, Verbose: 2);

    /// <summary>A quick run for the tests.</summary>
    public static JenaOptions Test => new(Epochs: 6, StepsPerEpoch: 10, Verbose: 0);
}

/// <summary>
/// Mean absolute errors of the 24-hour-ahead temperature over the test windows (°C) of the GRU and
/// of the script's naive baseline (the temperature stays as it is), and the last epoch's
/// validation loss (standardised units).
/// </summary>
public sealed record JenaResult(double ModelMae, double NaiveMae, double LastValidationLoss, long Steps, int TestWindows);

/// <summary>
/// The Keras Jena-climate script in C#: standardise with the training part's statistics, draw
/// random windows from an endless generator, fit a stacked GRU with dropout and recurrent dropout
/// and <c>stepsPerEpoch</c> / <c>validationSteps</c>, compare with the naive "no change" forecast.
/// </summary>
/// <remarks>
/// The Jena file is not available offline; <see cref="JenaLikeSeries"/> makes three years of rows
/// like it (ten-minute steps, the fourteen readings in the file's order). The script's sizes are
/// kept: windows of 10 days (<see cref="Lookback"/> 1440 rows) sampled hourly (<see cref="Step"/> 6,
/// so 240 time steps of 14 features), the target is the temperature 24 hours after the window
/// (<see cref="Delay"/> 144), batches of 128. The first two years train, the next half year
/// validates, the last half year is the test.
/// </remarks>
public static class JenaExample
{
    /// <summary>The script's <c>lookback</c>: rows (ten minutes each) covered by a window, 10 days.</summary>
    public const int Lookback = 720;

    /// <summary>The script's <c>step</c>: one sample per hour.</summary>
    public const int Step = 6;

    /// <summary>The script's <c>delay</c>: the target is 24 hours after the window's end.</summary>
    public const int Delay = 144;

    /// <summary>Time steps per window (<c>lookback // step</c>).</summary>
    public const int TimeSteps = Lookback / Step;

    /// <summary>The script's <c>batch_size</c>.</summary>
    public const int BatchSize = 128;

    /// <summary>Features per step: the fourteen readings.</summary>
    public const int Features = 14;

    /// <summary>Days of synthetic data, and where training, validation and test end (rows).</summary>
    public const int Days = 3 * 365, TrainEnd = 730 * JenaLikeSeries.RowsPerDay, ValidationEnd = 912 * JenaLikeSeries.RowsPerDay;

    /// <summary>Rows between the targets of consecutive validation and test windows (every 6 hours).</summary>
    public const int EvaluationStride = 36;

    /// <summary>
    /// The script's <c>generator(data, lookback, delay, min_index, max_index, shuffle=True, batch_size, step)</c>:
    /// endless batches whose rows <c>r</c> are drawn at random from
    /// [<paramref name="minIndex"/> + <see cref="Lookback"/>, <paramref name="maxIndex"/>).
    /// <c>X</c> is <c>(batch, 240, 14)</c>, rows <c>r − 1440, r − 1434, …, r − 6</c>; <c>Y</c> is
    /// <c>(batch, 1)</c>, the temperature of row <c>r + 144</c>.
    /// </summary>
    public static IEnumerable<(Tensor X, Tensor Y)> Generator(Tensor data, int minIndex, int maxIndex, int batchSize, Random random)
    {
        // Tensors made here belong to the batch: Fit disposes them after its step, so everything the
        // batch needs is made inside the loop (data, made by the caller, is left alone).
        while (true)
        {
            using var offsets = arange((long)-Lookback, 0L, (long)Step);
            var rows = new long[batchSize];
            for (int j = 0; j < batchSize; j++)
                rows[j] = random.Next(minIndex + Lookback, maxIndex);
            using var starts = tensor(rows);
            using var indices = starts.unsqueeze(1) + offsets;                              // (batch, 240)
            using var targets = starts + Delay;
            var x = data[indices];                                                          // (batch, 240, 14)
            var y = data.index_select(0, targets)[.., JenaLikeSeries.Temperature..(JenaLikeSeries.Temperature + 1)];   // (batch, 1)
            yield return (x, y);
        }
    }

    /// <summary>
    /// Windows whose rows <c>r</c> run over [<paramref name="first"/>, <paramref name="end"/>) every
    /// <see cref="EvaluationStride"/> rows, in order, as a lazy <see cref="TimeseriesDataset"/> (Keras
    /// <c>timeseries_dataset_from_array</c> with <c>sampling_rate=6</c>); the same windows and targets as the generator's.
    /// </summary>
    public static TimeseriesDataset Windows(Tensor data, int first, int end) =>
        Utils.TimeseriesDataset(data[(first - Lookback)..end],
            data[(first + Delay)..(end + Delay), JenaLikeSeries.Temperature..(JenaLikeSeries.Temperature + 1)],
            sequenceLength: TimeSteps, sequenceStride: EvaluationStride, samplingRate: Step, batchSize: BatchSize);

    /// <summary>The script's model: GRU(32, return_sequences) → GRU(64, relu) → Dense(1), with the script's dropouts and an L2 penalty.</summary>
    public static Sequential BuildModel()
    {
        var model = new Sequential();
        model.Add(new GRU(32, dropout: 0.1, recurrentDropout: 0.5, returnSequences: true, inputShape: [null, Features],
            kernelRegularizer: new L2(1e-4)));
        model.Add(new GRU(64, activation: "relu", dropout: 0.1, recurrentDropout: 0.5));
        model.Add(new Dense(1));
        return model;
    }

    public static JenaResult Run(JenaOptions options, TextWriter log)
    {
        Utils.SetRandomSeed(options.Seed);
        float[,] rows = JenaLikeSeries.Generate(Days, options.Seed);
        using var raw = tensor(rows);                                                   // (157680, 14)

        // float_data -= mean; float_data /= std, with the training part's statistics.
        using var trainPart = raw[..TrainEnd];
        using var mean = trainPart.mean([0]);
        using var std = trainPart.std([0]);
        using var data = (raw - mean) / std;
        double temperatureMean = mean[JenaLikeSeries.Temperature].item<float>(), temperatureStd = std[JenaLikeSeries.Temperature].item<float>();

        var trainBatches = Generator(data, 0, TrainEnd, BatchSize, new Random(options.Seed));
        using var validation = Windows(data, TrainEnd + Lookback, ValidationEnd);
        int testEnd = rows.GetLength(0) - Delay;
        using var test = Windows(data, ValidationEnd + Lookback, testEnd);
        int validationSteps = validation.BatchCount!.Value;
        log.WriteLine($"A synthetic Jena-like record: {Days} days of ten-minute rows, {Features} readings ({string.Join(", ", JenaLikeSeries.Columns[..4])}, ...).");
        log.WriteLine($"Windows of {Lookback / JenaLikeSeries.RowsPerDay} days sampled hourly ({TimeSteps} steps) → the temperature {Delay / 6} hours later.");
        log.WriteLine($"Train: days 0-729, drawn at random (endless); validation: {validation.Count} windows from days 730-911; test: {test.Count} windows from days 912-1094.");
        log.WriteLine();

        var model = BuildModel();
        model.Compile(optimizer: new RMSprop(), loss: "mae");
        model.Summary(log);
        log.WriteLine();

        var history = model.Fit(trainBatches, stepsPerEpoch: options.StepsPerEpoch, epochs: options.Epochs,
            validationData: validation.Select(b => (b.X, b.Y!)), validationSteps: validationSteps, verbose: options.Verbose);

        // The test windows' forecasts in °C, against the truth and the naive forecast (the temperature at the window's last sample).
        using var predicted = model.Predict(test, verbose: 0);
        var forecast = predicted[.., 0].to_type(ScalarType.Float64).data<double>().ToArray();
        double modelMae = 0, naiveMae = 0;
        for (int k = 0; k < forecast.Length; k++)
        {
            int r = ValidationEnd + Lookback + k * EvaluationStride;
            double actual = rows[r + Delay, JenaLikeSeries.Temperature], last = rows[r - Step, JenaLikeSeries.Temperature];
            modelMae += Math.Abs(forecast[k] * temperatureStd + temperatureMean - actual) / forecast.Length;
            naiveMae += Math.Abs(last - actual) / forecast.Length;
        }
        var result = new JenaResult(modelMae, naiveMae, history["val_loss"][^1], model.Optimizer!.Iterations, forecast.Length);

        log.WriteLine();
        log.WriteLine($"Test MAE of the temperature 24 hours ahead over {forecast.Length} windows (°C):");
        log.WriteLine($"  stacked GRU                                  {result.ModelMae,6:F2}");
        log.WriteLine($"  naive: the temperature stays as it is        {result.NaiveMae,6:F2}");
        log.WriteLine($"({result.Steps} training steps of {BatchSize} windows; last val_loss {result.LastValidationLoss:F3})");
        return result;
    }
}
