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
    /// <summary>What <c>dotnet run</c> runs: about 20 seconds on one core.</summary>
    public static JenaOptions Short => new(Epochs: 20, StepsPerEpoch: 10, Verbose: 2);

    /// <summary><c>--long</c>: ten times the steps.</summary>
    public static JenaOptions Long => new(Epochs: 40, StepsPerEpoch: 50, Verbose: 2);

    /// <summary>A quick run for the tests.</summary>
    public static JenaOptions Test => new(Epochs: 12, StepsPerEpoch: 10, Verbose: 0);
}

/// <summary>
/// Mean absolute errors over the test months (1959-1960, thousands of passengers) of the GRU, of the
/// script's naive baseline (next month = this month) and of a seasonal naive forecast (this month's
/// change = the same month's change last year); and the last epoch's validation loss.
/// </summary>
public sealed record JenaResult(double ModelMae, double NaiveMae, double SeasonalNaiveMae, double LastValidationLoss, long Steps);

/// <summary>
/// The Keras Jena-climate script in C#: standardise with the training part's statistics, draw
/// random windows from an endless generator, fit a stacked GRU with dropout and recurrent dropout
/// and <c>stepsPerEpoch</c> / <c>validationSteps</c>, compare with the naive "no change" forecast.
/// </summary>
/// <remarks>
/// <para>The Jena file (420,551 ten-minute rows of 14 weather readings, 2009-2016) is not
/// available offline, so the script runs on a real series that ships with the repository: monthly
/// international airline passengers, 1949-1960 (Box &amp; Jenkins's series G, the file of
/// examples/AirlinePassengers). What changes with the data: a step is a month instead of ten
/// minutes, the lookback is 24 months instead of 10 days (<c>step</c> 1 instead of 6), and the
/// target is next month instead of 24 hours ahead.</para>
/// <para>Features per month <c>t</c>: the log growth <c>ln y[t] − ln y[t−1]</c> (target and
/// input) and the calendar month as sine and cosine, standardised with the training months' mean
/// and standard deviation as the script does. The forecast of the passengers is
/// <c>y[t−1] · exp(ĝ[t])</c>; the naive baseline is <c>ĝ = 0</c>, the seasonal one
/// <c>ĝ[t] = g[t−12]</c>.</para>
/// </remarks>
public static class JenaExample
{
    /// <summary>Months in each window (the script's <c>lookback</c>, at <c>step</c> 1).</summary>
    public const int Lookback = 24;

    /// <summary>The script's <c>batch_size</c>.</summary>
    public const int BatchSize = 32;

    /// <summary>Features per step: log growth, month sine, month cosine.</summary>
    public const int Features = 3;

    /// <summary>Rows (months after the first) used for training targets, validation targets, test targets.</summary>
    public const int TrainEnd = 107, ValidationEnd = 119;

    /// <summary>The CSV next to the program (linked from examples/AirlinePassengers by the project).</summary>
    public static string DataPath => Path.Combine(AppContext.BaseDirectory, "airline-passengers.csv");

    /// <summary>
    /// Row <c>i</c> describes month <c>i + 1</c> (1949-02 onward): log growth since the month before,
    /// sine and cosine of the calendar month; not yet standardised. Shape <c>(143, 3)</c>.
    /// </summary>
    public static double[,] Rows(double[] passengers)
    {
        var rows = new double[passengers.Length - 1, Features];
        for (int i = 0; i < rows.GetLength(0); i++)
        {
            int month = (i + 1) % 12;   // 0 = January
            rows[i, 0] = Math.Log(passengers[i + 1]) - Math.Log(passengers[i]);
            rows[i, 1] = Math.Sin(2 * Math.PI * month / 12);
            rows[i, 2] = Math.Cos(2 * Math.PI * month / 12);
        }
        return rows;
    }

    /// <summary>
    /// The script's <c>generator(data, lookback, delay, min_index, max_index, shuffle=True, batch_size)</c>:
    /// endless batches of windows whose targets are rows drawn at random from
    /// [<paramref name="minIndex"/> + <see cref="Lookback"/>, <paramref name="maxIndex"/>).
    /// <c>X</c> is <c>(batch, Lookback, Features)</c>, rows <c>r − Lookback … r − 1</c>; <c>Y</c> is
    /// <c>(batch, 1)</c>, column 0 of row <c>r</c>.
    /// </summary>
    public static IEnumerable<(Tensor X, Tensor Y)> Generator(Tensor data, int minIndex, int maxIndex, int batchSize, Random random)
    {
        // Tensors made here belong to the batch: Fit disposes them after its step, so everything the
        // batch needs is made inside the loop (data, made by the caller, is left alone).
        while (true)
        {
            using var offsets = arange((long)-Lookback, 0L, 1L);
            var rows = new long[batchSize];
            for (int j = 0; j < batchSize; j++)
                rows[j] = random.Next(minIndex + Lookback, maxIndex);
            using var targets = tensor(rows);
            using var indices = targets.unsqueeze(1) + offsets;             // (batch, Lookback)
            var x = data[indices];                                          // (batch, Lookback, Features)
            var y = data.index_select(0, targets)[.., 0..1];               // (batch, 1)
            yield return (x, y);
        }
    }

    /// <summary>
    /// Windows for the targets in rows [<paramref name="first"/>, <paramref name="end"/>), in order, as a
    /// lazy <see cref="TimeseriesDataset"/> (Keras <c>timeseries_dataset_from_array</c>).
    /// </summary>
    public static TimeseriesDataset Windows(Tensor data, int first, int end) =>
        Utils.TimeseriesDataset(data[(first - Lookback)..(end - 1)], data[first..end, 0..1], sequenceLength: Lookback, batchSize: BatchSize);

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
        double[] passengers = Csv.LoadColumn(DataPath, "passengers");
        var raw = tensor(Rows(passengers));                                           // (143, 3), float64

        // float_data -= mean; float_data /= std, with the training part's statistics.
        var trainPart = raw[..TrainEnd];
        var mean = trainPart.mean([0]);
        var std = trainPart.std([0]);
        var data = ((raw - mean) / std).to_type(ScalarType.Float32);
        double growthMean = mean[0].item<double>(), growthStd = std[0].item<double>();

        var trainBatches = Generator(data, 0, TrainEnd, BatchSize, new Random(options.Seed));
        using var validation = Windows(data, TrainEnd, ValidationEnd);
        using var test = Windows(data, ValidationEnd, (int)data.shape[0]);
        int validationSteps = validation.BatchCount!.Value;
        log.WriteLine($"Airline passengers, {passengers.Length} months (1949-01 … 1960-12), standing in for the Jena climate file.");
        log.WriteLine($"Features: log growth, month sine, month cosine. Windows of {Lookback} months → next month's growth.");
        log.WriteLine($"Targets: train {TrainEnd - Lookback} months (drawn at random, endless), validation {validation.Count} (1958), test {test.Count} (1959-1960).");
        log.WriteLine();

        var model = BuildModel();
        model.Compile(optimizer: new RMSprop(), loss: "mae");
        model.Summary(log);
        log.WriteLine();

        var history = model.Fit(trainBatches, stepsPerEpoch: options.StepsPerEpoch, epochs: options.Epochs,
            validationData: validation.Select(b => (b.X, b.Y!)), validationSteps: validationSteps, verbose: options.Verbose);

        // Forecasts of the test months, in passengers: y[t−1] · exp(ĝ[t]).
        var growth = model.Predict(test, verbose: 0)[.., 0].to_type(ScalarType.Float64) * growthStd + growthMean;
        double modelMae = 0, naiveMae = 0, seasonalMae = 0;
        int months = (int)growth.shape[0];
        for (int k = 0; k < months; k++)
        {
            int t = ValidationEnd + 1 + k;                      // the month of test row ValidationEnd + k
            double previous = passengers[t - 1], actual = passengers[t];
            modelMae += Math.Abs(previous * Math.Exp(growth[k].item<double>()) - actual) / months;
            naiveMae += Math.Abs(previous - actual) / months;
            seasonalMae += Math.Abs(previous * passengers[t - 12] / passengers[t - 13] - actual) / months;
        }
        var result = new JenaResult(modelMae, naiveMae, seasonalMae, history["val_loss"][^1], model.Optimizer!.Iterations);

        log.WriteLine();
        log.WriteLine($"Test MAE over {months} months (thousands of passengers; they average {passengers[^months..].Average():F0}):");
        log.WriteLine($"  stacked GRU                                        {result.ModelMae,6:F1}");
        log.WriteLine($"  naive: next month = this month                     {result.NaiveMae,6:F1}");
        log.WriteLine($"  seasonal naive: this month's change as a year ago  {result.SeasonalNaiveMae,6:F1}");
        log.WriteLine($"({result.Steps} training steps of {BatchSize} windows; last val_loss {result.LastValidationLoss:F3})");
        return result;
    }
}
