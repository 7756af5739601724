using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Optimizers.Schedules;
using static TorchSharp.torch;

namespace SeqSharp.Examples.LstmAutoencoder;

/// <summary>How big a run is.</summary>
/// <param name="TrainSequences">Normal sequences to train on.</param>
/// <param name="TestSequences">Normal test sequences, and anomalous ones of each kind.</param>
/// <param name="Epochs">Training epochs.</param>
/// <param name="Verbose">Fit's verbosity.</param>
public sealed record AutoencoderOptions(int TrainSequences, int TestSequences, int Epochs, int Verbose)
{
    /// <summary>The example as <c>dotnet run</c> runs it.</summary>
    public static AutoencoderOptions Full => new(TrainSequences: 3000, TestSequences: 300, Epochs: 40, Verbose: 2);

    /// <summary>A few seconds' run for the tests.</summary>
    public static AutoencoderOptions Small => new(TrainSequences: 1200, TestSequences: 100, Epochs: 15, Verbose: 0);
}

/// <summary>The detector's threshold and rates on held-out data.</summary>
public sealed record AutoencoderResult(double Threshold, double FalseAlarmRate, double DetectionRate, IReadOnlyDictionary<Anomaly, double> DetectionByKind);

/// <summary>
/// An LSTM autoencoder for anomaly detection: trained to reconstruct normal sequences only, it
/// reconstructs anomalous ones badly, so a reconstruction error above a threshold flags a sequence.
/// </summary>
public static class AutoencoderExample
{
    /// <summary>The example's model, untrained: LSTM encoder → RepeatVector → LSTM decoder → TimeDistributed(Dense).</summary>
    public static Sequential BuildModel()
    {
        var model = new Sequential();
        model.Add(new LSTM(32, inputShape: [SignalData.Steps, 1]));
        model.Add(new RepeatVector(SignalData.Steps));
        model.Add(new LSTM(32, returnSequences: true));
        model.Add(new TimeDistributed(new Dense(1)));
        return model;
    }

    public static AutoencoderResult Run(AutoencoderOptions options, TextWriter log)
    {
        Utils.SetRandomSeed(3);
        var random = new Random(3);
        var train = SignalData.Generate(options.TrainSequences, Anomaly.None, random);
        var calibration = SignalData.Generate(options.TestSequences, Anomaly.None, random);
        var normalTest = SignalData.Generate(options.TestSequences, Anomaly.None, random);
        Anomaly[] kinds = [Anomaly.Spike, Anomaly.LevelShift, Anomaly.NoiseBurst, Anomaly.Flatline];
        var anomalous = kinds.ToDictionary(k => k, k => SignalData.Generate(options.TestSequences, k, random));

        // Encoder: the whole sequence into the LSTM's last 32-number output; decoder: that code,
        // repeated at every step, back into 40 steps.
        var model = BuildModel();
        // A cosine-decaying learning rate ends training on small, steady steps; clipping guards against spikes.
        long steps = options.Epochs * (long)Math.Ceiling(options.TrainSequences * 0.9 / 32);
        model.Compile(optimizer: new Adam(learningRate: new CosineDecay(0.005, steps, alpha: 0.02), clipnorm: 1.0), loss: "mse");
        log.WriteLine($"Training on {options.TrainSequences} normal sequences of {SignalData.Steps} steps.");
        model.Summary(log);
        log.WriteLine();
        model.Fit(train, train, epochs: options.Epochs, batchSize: 32, validationSplit: 0.1, verbose: options.Verbose);

        Tensor Errors(Tensor x) => (model.Predict(x, verbose: 0) - x).square().mean([1, 2]);

        // Threshold: the 99th percentile of the error on normal sequences not used for training.
        var calibrationErrors = Errors(calibration).data<float>().Select(e => (double)e).Order().ToArray();
        double threshold = Percentile(calibrationErrors, 0.99);
        double falseAlarms = Errors(normalTest).gt(threshold).to_type(ScalarType.Float32).mean().item<float>();
        var detection = kinds.ToDictionary(k => k, k => (double)Errors(anomalous[k]).gt(threshold).to_type(ScalarType.Float32).mean().item<float>());
        var result = new AutoencoderResult(threshold, falseAlarms, detection.Values.Average(), detection);

        log.WriteLine();
        log.WriteLine($"Reconstruction error (MSE) of held-out normal sequences: median {Percentile(calibrationErrors, 0.5):F4}, 99th percentile {threshold:F4}");
        log.WriteLine($"Threshold: {threshold:F4} (that 99th percentile: about 1% false alarms expected)");
        log.WriteLine();
        log.WriteLine($"False-alarm rate on {options.TestSequences} new normal sequences: {100 * falseAlarms,5:F1}%");
        foreach (var kind in kinds)
            log.WriteLine($"Detection rate, {kind,-11} ({options.TestSequences} sequences): {100 * detection[kind],5:F1}%");
        log.WriteLine($"Detection rate overall: {100 * result.DetectionRate:F1}%");
        return result;
    }

    /// <summary>The p-quantile of sorted values, interpolating linearly as NumPy's default does.</summary>
    private static double Percentile(double[] sorted, double p)
    {
        double position = p * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }
}
