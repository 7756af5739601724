using System.IO.Compression;
using System.Text.Json;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Saving;
using SeqSharp.Tests.TestSupport;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Saving;

/// <summary>
/// A real Keras 3.8 model (shared/fixtures/keras/stock_trend_lstm.keras): LSTM(50) → Dropout →
/// LSTM(60) → Dropout → LSTM(80) → Dropout → LSTM(120) → Dropout → Dense(1), relu LSTMs, Adam.
/// Dropout is the identity at inference, so the model without its Dropouts computes the same.
/// </summary>
public class KerasFixtureTests
{
    private static Sequential Equivalent()
    {
        var model = new Sequential();
        model.Add(new InputLayer([100, 1]));
        model.Add(new LSTM(50, activation: "relu", returnSequences: true));
        model.Add(new LSTM(60, activation: "relu", returnSequences: true));
        model.Add(new LSTM(80, activation: "relu", returnSequences: true));
        model.Add(new LSTM(120, activation: "relu"));
        model.Add(new Dense(1));
        return model;
    }

    private static (Tensor Input, Tensor Output) Expected()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(SharedFixtures.PathOf("keras/stock_trend_lstm.expected.json")));
        var root = json.RootElement;
        var input = root.GetProperty("input").EnumerateArray()
            .SelectMany(s => s.EnumerateArray().SelectMany(t => t.EnumerateArray().Select(v => v.GetDouble()))).ToArray();
        var output = root.GetProperty("output").EnumerateArray().SelectMany(s => s.EnumerateArray().Select(v => v.GetDouble())).ToArray();
        Assert.Equal(400, input.Length);
        Assert.Equal(4, output.Length);
        return (tensor(input, [4, 100, 1], ScalarType.Float32), tensor(output, [4, 1], ScalarType.Float64));
    }

    private static string ExtractWeights(TempFolder folder)
    {
        var path = folder.File("model.weights.h5");
        using var archive = ZipFile.OpenRead(SharedFixtures.PathOf("keras/stock_trend_lstm.keras"));
        archive.GetEntry("model.weights.h5")!.ExtractToFile(path);
        return path;
    }

    [Fact]
    public void Reader_FixtureDatasetsIntoSetWeights_MatchesKerasOutputs()
    {
        using var folder = new TempFolder();
        var model = Equivalent();
        var weights = new List<Tensor>();
        using (var reader = WeightsReader.Open(ExtractWeights(folder)))
        {
            foreach (var key in new[] { "lstm", "lstm_1", "lstm_2", "lstm_3" })
                weights.AddRange(reader.Vars($"layers/{key}/cell/vars")!.Select(reader.Read));
            weights.AddRange(reader.Vars("layers/dense/vars")!.Select(reader.Read));
        }
        model.SetWeights(weights);

        var (input, output) = Expected();
        TensorAssert.Close(output, model.Predict(input, verbose: 0), atol: 1e-5, what: "Keras model output");
    }

    [Fact]
    public void LoadWeights_KerasArchive_MatchesKerasOutputsAndRestoresAdam()
    {
        var model = Equivalent();
        model.Compile(optimizer: new Adam(), loss: "mse");
        model.LoadWeights(SharedFixtures.PathOf("keras/stock_trend_lstm.keras"));

        var (input, output) = Expected();
        TensorAssert.Close(output, model.Predict(input, verbose: 0), atol: 1e-5, what: "Keras model output");
        Assert.True(model.Optimizer!.Built);
        Assert.True(model.Optimizer.Iterations > 0, "the fixture was saved after training, so Adam's step count is positive");
        Assert.Equal(30, model.Optimizer.Variables.Count);   // iterations, rate, momentum and velocity of 14 variables
    }

    [Fact]
    public void Load_KerasFile_RebuildsTheModelWithItsDropoutsAndMatchesKerasOutputs()
    {
        var model = Sequential.Load(SharedFixtures.PathOf("keras/stock_trend_lstm.keras"));

        Assert.Equal(["lstm", "dropout", "lstm_1", "dropout_1", "lstm_2", "dropout_2", "lstm_3", "dropout_3", "dense"],
            model.Layers.Select(l => l.Name));
        Assert.Equal([0.2, 0.3, 0.4, 0.5], model.Layers.OfType<SeqSharp.Layers.Dropout>().Select(d => d.Rate));
        Assert.All(model.Layers.OfType<LSTM>(), l => Assert.Equal("relu", l.Cell.Activation.Name));
        var (input, output) = Expected();
        TensorAssert.Close(output, model.Predict(input, verbose: 0), atol: 1e-5, what: "Keras model output");
        // compile_config: Adam and the loss by name; the optimizer's state from model.weights.h5.
        var adam = Assert.IsType<Adam>(model.Optimizer);
        Assert.Equal(0.0010000000474974513, adam.LearningRate);
        Assert.IsType<SeqSharp.Losses.MeanSquaredError>(model.Loss);
        Assert.Empty(model.Metrics);
        Assert.True(adam.Iterations > 0);
        Assert.Equal(30, adam.Variables.Count);
    }

    [Fact]
    public void SaveWeights_EquivalentModel_WritesTheFixturesPathsAndShapes()
    {
        using var folder = new TempFolder();
        var ours = folder.File("ours.weights.h5");
        var model = Equivalent();
        model.Compile(optimizer: new Adam(), loss: "mse");
        model.LoadWeights(SharedFixtures.PathOf("keras/stock_trend_lstm.keras"));
        model.SaveWeights(ours);

        // Keras's own file, minus the Dropout groups our model has no layer for, and minus the name
        // attributes (they hold each run's automatic names).
        static IEnumerable<string> Structure(string path) => SaveWeightsTests.Inventory(path)
            .Where(l => !l.StartsWith("A ", StringComparison.Ordinal) && !l.Contains("layers/dropout", StringComparison.Ordinal));
        Assert.Equal(Structure(ExtractWeights(folder)), Structure(ours));
    }
}
