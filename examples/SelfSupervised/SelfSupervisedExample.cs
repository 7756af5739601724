using System.Diagnostics;
using System.Globalization;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using static TorchSharp.torch;

namespace SeqSharp.Examples.SelfSupervised;

/// <summary>How big a run is.</summary>
/// <param name="Steps">Sequence length.</param>
/// <param name="Units">LSTM units of the encoder.</param>
/// <param name="Train">Training sequences: all are used unlabelled for pretraining; the label fractions are taken from them.</param>
/// <param name="Test">Labelled test sequences.</param>
/// <param name="PretrainEpochs">Passes of masked-step reconstruction over the training sequences (fresh masks each pass).</param>
/// <param name="FrozenSteps">Training steps of the first phase (pretrained encoder frozen; the scratch model trains all weights).</param>
/// <param name="UnfrozenSteps">Training steps of the second phase (everything trained, lower learning rate).</param>
/// <param name="Fractions">Shares of the training labels used.</param>
/// <param name="Seeds">Seeds per fraction (label subset, initial weights, shuffling).</param>
public sealed record SelfSupervisedOptions(int Steps, int Units, int Train, int Test, int PretrainEpochs, int FrozenSteps, int UnfrozenSteps,
    double[] Fractions, int[] Seeds)
{
    /// <summary>The example as <c>dotnet run</c> runs it.</summary>
    public static SelfSupervisedOptions Full => new(Steps: 48, Units: 32, Train: 3000, Test: 1000, PretrainEpochs: 10, FrozenSteps: 100, UnfrozenSteps: 200,
        Fractions: [0.01, 0.1, 1.0], Seeds: [1, 2, 3]);

    /// <summary>A run of well under a minute (one seed, short training), for the tests and <c>--small</c>.</summary>
    public static SelfSupervisedOptions Small => new(Steps: 32, Units: 16, Train: 1000, Test: 300, PretrainEpochs: 6, FrozenSteps: 30, UnfrozenSteps: 60,
        Fractions: [0.01, 0.1, 1.0], Seeds: [1]);
}

/// <summary>Test accuracy of one classifier: a label fraction, a seed, pretrained or from scratch.</summary>
public sealed record FineTuneRow(double Fraction, int Labels, int Seed, bool Pretrained, double Accuracy);

/// <summary>The pretraining's result and every classifier's accuracy.</summary>
/// <param name="MaskedMse">Reconstruction MSE of the pretrained model on masked test steps.</param>
/// <param name="CopyMse">The MSE of copying the last visible value into a masked step, for comparison.</param>
/// <param name="Rows">One row per fraction, seed and kind.</param>
public sealed record SelfSupervisedResult(double MaskedMse, double CopyMse, IReadOnlyList<FineTuneRow> Rows);

/// <summary>
/// Self-supervised pretraining of an LSTM encoder by masked-step reconstruction, then fine-tuning of a
/// classifier on a fraction of the labels, against the same classifier trained from scratch.
/// </summary>
/// <remarks>
/// Inputs have two channels, the value and a mask flag. Pretraining hides spans of 3 steps (about 20%
/// of the steps, fresh masks every pass): a hidden value reads 0 with flag 1, and the model,
/// <c>LSTM(returnSequences) → Dense(1)</c>, is trained to output the true value at the hidden steps
/// (the loss is weighted by the mask, so visible steps do not count). The classifier is
/// <c>LSTM(returnSequences) → GlobalAveragePooling1D → Dense(4, softmax)</c> on inputs with the flag
/// 0. The pretrained classifier starts from the pretrained LSTM's weights, trains its head with the
/// encoder frozen (<c>Trainable = false</c>), then everything with a lower learning rate; the scratch
/// classifier has the same architecture, steps and learning rates from a fresh initialisation.
/// </remarks>
public static class SelfSupervisedExample
{
    private const int Batch = 32, Span = 3;

    public static SelfSupervisedResult Run(SelfSupervisedOptions options, TextWriter log)
    {
        using var scope = NewDisposeScope();
        var random = new Random(42);
        var (xTrain, labelsTrain) = WaveformData.Generate(options.Train, options.Steps, random);
        var (xTest, labelsTest) = WaveformData.Generate(options.Test, options.Steps, random);
        log.WriteLine($"Synthetic waveforms, {WaveformData.Classes.Length} classes ({string.Join(", ", WaveformData.Classes)}), T = {options.Steps}: " +
            $"{options.Train} training sequences (all used unlabelled for pretraining), {options.Test} test sequences.");

        // Pretraining: masked-step reconstruction.
        Utils.SetRandomSeed(100);
        var pretrain = new Sequential([Encoder(options), new Dense(1)]);
        pretrain.Compile(optimizer: new Adam(learningRate: 3e-3), loss: "mse");
        var clock = Stopwatch.StartNew();
        var maskRandom = new Random(7);
        for (int epoch = 0; epoch < options.PretrainEpochs; epoch++)
        {
            using var step = NewDisposeScope();
            var mask = Masks(options.Train, options.Steps, maskRandom);
            pretrain.Fit(Masked(xTrain, mask), xTrain, epochs: 1, batchSize: Batch, sampleWeight: mask, verbose: 0);
        }
        var testMask = Masks(options.Test, options.Steps, new Random(8));
        var reconstruction = pretrain.Predict(Masked(xTest, testMask), verbose: 0);
        double maskedMse = ((reconstruction - xTest).square().squeeze(-1) * testMask).sum().item<float>() / testMask.sum().item<float>();
        double copyMse = CopyMse(xTest, testMask);
        log.WriteLine(FormattableString.Invariant(
            $"Pretraining: {options.PretrainEpochs} passes in {clock.Elapsed.TotalSeconds:F1} s; masked-step MSE on test {maskedMse:F4} (copying the last visible value: {copyMse:F4}; noise variance 0.09)."));

        var rows = new List<FineTuneRow>();
        var testInput = Masked(xTest, zeros(options.Test, options.Steps));
        foreach (double fraction in options.Fractions)
        {
            int count = Math.Max(WaveformData.Classes.Length, (int)Math.Round(fraction * options.Train));
            foreach (int seed in options.Seeds)
            {
                using var run = NewDisposeScope();
                var order = Enumerable.Range(0, options.Train).ToArray();
                new Random(seed).Shuffle(order);
                var subset = order.Take(count).Select(i => (long)i).ToArray();
                var index = tensor(subset);
                var x = Masked(xTrain.index_select(0, index), zeros(count, options.Steps));
                var y = tensor(subset.Select(i => labelsTrain[i]).ToArray());
                foreach (bool pretrained in new[] { false, true })
                {
                    Utils.SetRandomSeed(seed);
                    var classifier = new Sequential([Encoder(options), new GlobalAveragePooling1D(), new Dense(WaveformData.Classes.Length, activation: "softmax")]);
                    classifier.Build([options.Steps, 2]);
                    if (pretrained)
                    {
                        classifier.Layers[0].SetWeights(pretrain.Layers[0].GetWeights());
                        classifier.Layers[0].Trainable = false;
                    }
                    Train(classifier, x, y, options.FrozenSteps, 3e-3);
                    classifier.Layers[0].Trainable = true;
                    Train(classifier, x, y, options.UnfrozenSteps, 1e-3);
                    double accuracy = Accuracy(classifier, testInput, labelsTest);
                    rows.Add(new FineTuneRow(fraction, count, seed, pretrained, accuracy));
                    log.WriteLine(FormattableString.Invariant($"  {fraction,5:P0} labels ({count,4}), seed {seed}, {(pretrained ? "pretrained" : "scratch   ")}: test accuracy {accuracy:P1}"));
                }
            }
        }
        log.WriteLine();
        log.Write(Markdown(rows));
        return new SelfSupervisedResult(maskedMse, copyMse, rows);
    }

    /// <summary>Mean ± standard deviation over seeds per fraction, scratch against pretrained, and the gain.</summary>
    public static string Markdown(IReadOnlyList<FineTuneRow> rows)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        text.WriteLine("| labels | seeds | from scratch | pretrained (frozen, then unfrozen) | gain (points) |");
        text.WriteLine("|---:|---:|---:|---:|---:|");
        foreach (var group in rows.GroupBy(r => r.Fraction))
        {
            var scratch = group.Where(r => !r.Pretrained).Select(r => r.Accuracy).ToArray();
            var pre = group.Where(r => r.Pretrained).Select(r => r.Accuracy).ToArray();
            text.WriteLine(FormattableString.Invariant(
                $"| {group.Key:P0} ({group.First().Labels}) | {scratch.Length} | {Summary(scratch)} | {Summary(pre)} | {100 * (pre.Average() - scratch.Average()):+0.0;-0.0} |"));
        }
        return text.ToString();
    }

    private static string Summary(double[] values)
    {
        double mean = values.Average();
        double sd = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : 0;
        return values.Length > 1 ? FormattableString.Invariant($"{100 * mean:F1}% ± {100 * sd:F1}") : FormattableString.Invariant($"{100 * mean:F1}%");
    }

    private static LSTM Encoder(SelfSupervisedOptions options) => new(options.Units, returnSequences: true, inputShape: [options.Steps, 2]);

    /// <summary>Recompiles (a change of Trainable takes effect at Compile, as in Keras) and trains about <paramref name="steps"/> steps.</summary>
    private static void Train(Sequential model, Tensor x, Tensor y, int steps, double learningRate)
    {
        model.Compile(optimizer: new Adam(learningRate: learningRate), loss: "sparse_categorical_crossentropy");
        int perEpoch = (int)Math.Ceiling(x.shape[0] / (double)Batch);
        model.Fit(x, y, epochs: Math.Max(1, (int)Math.Round(steps / (double)perEpoch)), batchSize: Batch, verbose: 0);
    }

    private static double Accuracy(Sequential model, Tensor x, long[] labels)
    {
        var predicted = model.Predict(x, verbose: 0).argmax(1).data<long>().ToArray();
        return predicted.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length;
    }

    /// <summary>Spans of <see cref="Span"/> hidden steps covering about 20% of each sequence, <c>(n, T)</c> float 0/1.</summary>
    private static Tensor Masks(int n, int steps, Random random)
    {
        var mask = new float[n, steps];
        int spans = Math.Max(1, (int)Math.Round(0.2 * steps / Span));
        for (int i = 0; i < n; i++)
        {
            for (int s = 0; s < spans; s++)
            {
                int start = 1 + random.Next(steps - Span);
                for (int t = start; t < start + Span; t++)
                    mask[i, t] = 1;
            }
        }
        return tensor(mask);
    }

    /// <summary>The two-channel input: the value (0 where hidden) and the mask flag.</summary>
    private static Tensor Masked(Tensor x, Tensor mask) => cat([x * (1 - mask.unsqueeze(-1)), mask.unsqueeze(-1)], 2);

    /// <summary>MSE of filling each hidden step with the last visible value before it.</summary>
    private static double CopyMse(Tensor x, Tensor mask)
    {
        var values = x.squeeze(-1).data<float>().ToArray();
        var hidden = mask.data<float>().ToArray();
        int n = (int)x.shape[0], steps = (int)x.shape[1];
        double sum = 0;
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            float last = 0;
            for (int t = 0; t < steps; t++)
            {
                int k = i * steps + t;
                if (hidden[k] > 0.5f)
                {
                    sum += (values[k] - last) * (values[k] - last);
                    count++;
                }
                else
                {
                    last = values[k];
                }
            }
        }
        return sum / count;
    }
}
