using SeqSharp.Layers;
using static TorchSharp.torch;

namespace SeqSharp.Examples.SentimentLstm;

/// <summary>How big a run is.</summary>
/// <param name="TrainReviews">Training sentences (10% of them held out for validation).</param>
/// <param name="TestReviews">Held-out sentences.</param>
/// <param name="Epochs">Training epochs.</param>
/// <param name="Verbose">Fit's verbosity.</param>
public sealed record SentimentOptions(int TrainReviews, int TestReviews, int Epochs, int Verbose)
{
    /// <summary>The example as <c>dotnet run</c> runs it.</summary>
    public static SentimentOptions Full => new(TrainReviews: 3000, TestReviews: 1000, Epochs: 8, Verbose: 2);

    /// <summary>A few seconds' run for the tests.</summary>
    public static SentimentOptions Small => new(TrainReviews: 1600, TestReviews: 400, Epochs: 8, Verbose: 0);
}

/// <summary>Held-out accuracy overall and on the sentences that need word order, with two baselines.</summary>
public sealed record SentimentResult(double Accuracy, double NegatedAccuracy, double ContrastAccuracy, double BagOfWordsAccuracy, double MajorityBaseline);

/// <summary>
/// Embedding(maskZero) → Bidirectional(LSTM) → Dense(sigmoid) sentiment classifier on generated
/// reviews padded to one length.
/// </summary>
public static class SentimentExample
{
    public const int MaxLength = 20;

    /// <summary>The example's model, untrained: Embedding (masking the padding) → Bidirectional(LSTM) → Dense.</summary>
    public static Sequential BuildModel(int inputDim)
    {
        var model = new Sequential();
        model.Add(new Embedding(inputDim: inputDim, outputDim: 16, maskZero: true, inputShape: [MaxLength]));
        model.Add(new Bidirectional(new LSTM(16)));
        model.Add(new Dense(1, activation: "sigmoid"));
        return model;
    }

    /// <summary>The order-blind baseline, untrained: Embedding → masked GlobalAveragePooling1D → Dense → Dense.</summary>
    public static Sequential BuildBagOfWords(int inputDim)
    {
        var bagOfWords = new Sequential();
        bagOfWords.Add(new Embedding(inputDim: inputDim, outputDim: 16, maskZero: true, inputShape: [MaxLength]));
        bagOfWords.Add(new GlobalAveragePooling1D());
        bagOfWords.Add(new Dense(16, activation: "relu"));
        bagOfWords.Add(new Dense(1, activation: "sigmoid"));
        return bagOfWords;
    }

    public static SentimentResult Run(SentimentOptions options, TextWriter log)
    {
        Utils.SetRandomSeed(11);
        var random = new Random(11);
        var train = ReviewData.Generate(options.TrainReviews, random);
        var test = ReviewData.Generate(options.TestReviews, random);
        var words = new WordIndex(train.Select(r => r.Text));
        Tensor Encode(IEnumerable<Review> reviews) => Utils.PadSequences(reviews.Select(r => words.Encode(r.Text)), maxlen: MaxLength);
        Tensor Labels(IEnumerable<Review> reviews) => tensor(reviews.Select(r => (float)r.Label).ToArray());

        log.WriteLine($"{train.Count} training and {test.Count} held-out reviews; vocabulary of {words.InputDim - 2} words; sequences padded to {MaxLength}.");
        foreach (var review in train.Take(4))
            log.WriteLine($"  [{(review.Label == 1 ? "positive" : "negative")}] {review.Text}");
        log.WriteLine();

        var (x, y, xTest) = (Encode(train), Labels(train), Encode(test));
        var model = BuildModel(words.InputDim);
        model.Compile(optimizer: "adam", loss: "binary_crossentropy", metrics: ["accuracy"]);
        model.Summary(log);
        log.WriteLine();
        model.Fit(x, y, epochs: options.Epochs, batchSize: 32, validationSplit: 0.1, verbose: options.Verbose);

        // The same words without their order: the mean of the real words' embeddings (the mask keeps padding out).
        var bagOfWords = BuildBagOfWords(words.InputDim);
        bagOfWords.Compile(optimizer: "adam", loss: "binary_crossentropy", metrics: ["accuracy"]);
        bagOfWords.Fit(x, y, epochs: options.Epochs, batchSize: 32, verbose: 0);

        var probabilities = model.Predict(xTest, verbose: 0).squeeze(1).data<float>().ToArray();
        double Accuracy(float[] p, Func<Review, bool> which)
        {
            var picked = test.Select((r, i) => (r, p: p[i])).Where(t => which(t.r)).ToList();
            return picked.Count(t => (t.p >= 0.5 ? 1 : 0) == t.r.Label) / (double)picked.Count;
        }
        var bagProbabilities = bagOfWords.Predict(xTest, verbose: 0).squeeze(1).data<float>().ToArray();
        double positiveShare = test.Average(r => r.Label);
        var result = new SentimentResult(Accuracy(probabilities, _ => true), Accuracy(probabilities, r => r.Negated), Accuracy(probabilities, r => r.Contrast),
            Accuracy(bagProbabilities, _ => true), Math.Max(positiveShare, 1 - positiveShare));

        log.WriteLine();
        log.WriteLine($"Held-out accuracy of the bidirectional LSTM: {100 * result.Accuracy:F1}%");
        log.WriteLine($"  on negated sentences (\"not good\", \"never boring\"): {100 * result.NegatedAccuracy:F1}% of {test.Count(r => r.Negated)}");
        log.WriteLine($"  on contrasts (\"... but ...\"):                      {100 * result.ContrastAccuracy:F1}% of {test.Count(r => r.Contrast)}");
        log.WriteLine($"Bag of words (same embeddings, averaged, no order):    {100 * result.BagOfWordsAccuracy:F1}%");
        log.WriteLine($"Always guessing the majority class:                   {100 * result.MajorityBaseline:F1}%");
        log.WriteLine();
        string[] samples =
        [
            "the movie was great",
            "the movie was not great",
            "the plot was not bad",
            "the acting was brilliant but the story was tedious",
            "the pacing was dull but the ending was truly moving",
            "honestly the cast was never boring",
        ];
        var sampleProbabilities = model.Predict(Utils.PadSequences(samples.Select(words.Encode), maxlen: MaxLength), verbose: 0).squeeze(1).data<float>().ToArray();
        log.WriteLine("P(positive) for new sentences:");
        for (int i = 0; i < samples.Length; i++)
            log.WriteLine($"  {sampleProbabilities[i],5:F2}  {samples[i]}");
        return result;
    }
}
