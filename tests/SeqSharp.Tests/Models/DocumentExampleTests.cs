using SeqSharp.Examples;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Models;

/// <summary>
/// The document's two scripts (examples/LstmSequence, examples/SimpleRnnSequence) in small form:
/// RNN(units, input (10, 1), returnSequences) → Dense(1, linear), adam, mse, on noisy sine waves.
/// A model that learned something beats both the targets' variance and the naive forecast
/// "next = current" on sequences it has not seen.
/// </summary>
[Collection(GlobalStateCollection.Name)]   // seeded: the data and initial weights are reproducible
public class DocumentExampleTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("lstm")]
    [InlineData("simple_rnn")]
    public void Fit_NoisySineSequences_BeatsVarianceAndPersistenceBaseline(string kind)
    {
        Utils.SetRandomSeed(42);
        var (xTrain, yTrain) = SineWaveData.Generate(samples: 400);
        var (xTest, yTest) = SineWaveData.Generate(samples: 200);

        var model = new Sequential();
        model.Add(kind == "lstm"
            ? new LSTM(units: 32, inputShape: [SineWaveData.Steps, 1], returnSequences: true)
            : new SimpleRNN(units: 32, inputShape: [SineWaveData.Steps, 1], returnSequences: true));
        model.Add(new Dense(1, activation: "linear"));
        // Adam as in the document; a larger step than Keras's default 1e-3 so that a few epochs suffice.
        model.Compile(optimizer: new Adam(learningRate: 0.01), loss: "mse", metrics: ["mae"]);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var history = model.Fit(xTrain, yTrain, epochs: 6, batchSize: 32, validationSplit: 0.1, verbose: 0);
        double testLoss = model.Evaluate(xTest, yTest, verbose: 0)["loss"];

        double variance = yTest.var().item<float>();
        double persistence = SineWaveData.PersistenceMse(xTest, yTest);
        output.WriteLine($"{kind}: {clock.Elapsed.TotalSeconds:F1} s; loss {history["loss"][0]:F4} → {history["loss"][^1]:F4}, " +
            $"val_loss {history["val_loss"][^1]:F4}, test {testLoss:F4}; target variance {variance:F4}, persistence {persistence:F4}");
        Assert.True(history["loss"][^1] < history["loss"][0] / 2, "The training loss should fall.");
        Assert.True(testLoss < variance / 10, $"Test loss {testLoss:F4} should be well below the variance {variance:F4}.");
        Assert.True(testLoss < persistence, $"Test loss {testLoss:F4} should beat the persistence forecast {persistence:F4}.");
    }
}
