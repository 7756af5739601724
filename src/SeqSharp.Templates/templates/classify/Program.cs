// Classifies token sequences of different lengths: each is padded with zeros to one length, and
// Embedding(maskZero: true) tells the LSTM to skip the padding. The generated task needs word
// order: a sequence is positive when token 7 comes before token 3 (both appear in every sequence),
// so counting tokens cannot solve it. Replace MakeData with your own token ids (1 .. Vocabulary-1).
// Run: dotnet run            (10 epochs)
//      dotnet run -- --epochs 1
using SeqSharp;
using SeqSharp.Layers;
using static TorchSharp.torch;

const int Vocabulary = 30;  // token ids 1..29; 0 is padding
const int MaxLength = 16;
int epochs = args.Length >= 2 && args[0] == "--epochs" ? int.Parse(args[1]) : 10;

Utils.SetRandomSeed(42);
var random = new Random(42);
var (train, trainLabels) = MakeData(2000, random);
var (test, testLabels) = MakeData(500, random);
Tensor x = Utils.PadSequences(train, maxlen: MaxLength);      // (2000, 16), zeros in front of short ones (Keras: "pre")
Tensor xTest = Utils.PadSequences(test, maxlen: MaxLength);
Tensor y = tensor(trainLabels);

var model = new Sequential();
model.Add(new Embedding(inputDim: Vocabulary, outputDim: 16, maskZero: true, inputShape: [MaxLength]));
model.Add(new Bidirectional(new LSTM(16)));
model.Add(new Dense(1, activation: "sigmoid"));
model.Compile(optimizer: "adam", loss: "binary_crossentropy", metrics: ["accuracy"]);
model.Summary();
model.Fit(x, y, epochs: epochs, batchSize: 32, validationSplit: 0.1, verbose: 2);

float[] probabilities = model.Predict(xTest, verbose: 0).squeeze(1).data<float>().ToArray();
double accuracy = probabilities.Select((p, i) => (p >= 0.5f ? 1f : 0f) == testLabels[i]).Average(ok => ok ? 1.0 : 0.0);
double positives = testLabels.Average();
Console.WriteLine($"Held-out accuracy: {100 * accuracy:F1}% (always guessing the majority class: {100 * Math.Max(positives, 1 - positives):F1}%)");
model.Save("classifier.keras");
Console.WriteLine("Wrote classifier.keras.");

static (List<int[]> Sequences, float[] Labels) MakeData(int count, Random random)
{
    var sequences = new List<int[]>();
    var labels = new float[count];
    for (int n = 0; n < count; n++)
    {
        int length = random.Next(4, MaxLength + 1);
        var tokens = Enumerable.Range(0, length).Select(_ => random.Next(1, Vocabulary)).Select(t => t is 3 or 7 ? 1 : t).ToArray();
        int first = random.Next(length), second = random.Next(length - 1);
        if (second >= first)
            second++;
        bool positive = random.Next(2) == 1;
        tokens[Math.Min(first, second)] = positive ? 7 : 3;
        tokens[Math.Max(first, second)] = positive ? 3 : 7;
        sequences.Add(tokens);
        labels[n] = positive ? 1f : 0f;
    }
    return (sequences, labels);
}
