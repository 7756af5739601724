using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Tests.TestSupport;
using Dropout = SeqSharp.Layers.Dropout;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Saving;

/// <summary>
/// Save in the middle of training, load, continue: the same history and weights as a run that never
/// stopped. The file does not hold TorchSharp's global generator (Keras's neither), but loading does
/// not draw from it, so within one process the shuffles and dropout masks continue as in the
/// uninterrupted run; across processes the caller restores the generator (here: get/set_rng_state).
/// </summary>
public class ResumeTrainingTests
{
    private static Sequential Model()
    {
        var model = new Sequential([
            new LSTM(5, inputShape: [6, 2], returnSequences: true),
            new Dropout(0.3),
            new LSTM(4),
            new Dense(1),
        ]);
        model.Compile(optimizer: new Adam(learningRate: 0.01), loss: "mse", metrics: ["mae"]);
        return model;
    }

    private static (Tensor X, Tensor Y) Data()
    {
        var x = randn(20, 6, 2);
        return (x, x.sum([1, 2]).unsqueeze(1) * 0.1);
    }

    private static void AssertSameRun(History expected, History actual, Sequential expectedModel, Sequential actualModel, int fromEpoch)
    {
        foreach (var key in new[] { "loss", "mae", "val_loss", "val_mae" })
            Assert.Equal(expected[key].Skip(fromEpoch), actual[key]);
        var a = expectedModel.GetWeights();
        var b = actualModel.GetWeights();
        for (int i = 0; i < a.Count; i++)
            TensorAssert.Close(a[i], b[i], atol: 0, what: $"weight {i}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Fit_AfterSaveAndLoad_ContinuesExactlyAsAnUninterruptedRun(bool shuffle)
    {
        using var folder = new TempFolder();
        var path = folder.File("mid.keras");
        Utils.SetRandomSeed(21);
        var (x, y) = Data();
        var uninterrupted = Model();
        var full = uninterrupted.Fit(x, y, batchSize: 6, epochs: 4, verbose: 0, shuffle: shuffle, validationSplit: 0.2);

        Utils.SetRandomSeed(21);
        (x, y) = Data();
        var first = Model();
        first.Fit(x, y, batchSize: 6, epochs: 2, verbose: 0, shuffle: shuffle, validationSplit: 0.2);
        first.Save(path);
        var resumed = Sequential.Load(path);
        var rest = resumed.Fit(x, y, batchSize: 6, epochs: 4, initialEpoch: 2, verbose: 0, shuffle: shuffle, validationSplit: 0.2);

        Assert.Equal(2 * 3, first.Optimizer!.Iterations);
        AssertSameRun(full, rest, uninterrupted, resumed, fromEpoch: 2);
    }

    [Fact]
    public void Fit_InAnotherProcessWithTheGeneratorStateRestored_ContinuesExactly()
    {
        using var folder = new TempFolder();
        var path = folder.File("mid.keras");
        Utils.SetRandomSeed(22);
        var (x, y) = Data();
        var uninterrupted = Model();
        var full = uninterrupted.Fit(x, y, batchSize: 6, epochs: 3, verbose: 0, validationSplit: 0.2);

        Utils.SetRandomSeed(22);
        (x, y) = Data();
        var first = Model();
        first.Fit(x, y, batchSize: 6, epochs: 1, verbose: 0, validationSplit: 0.2);
        first.Save(path);
        using var generator = torch.random.get_rng_state();
        Utils.SetRandomSeed(999);   // "another process": the generator is elsewhere until restored
        rand(100);
        torch.random.set_rng_state(generator);
        var resumed = Sequential.Load(path);
        var rest = resumed.Fit(x, y, batchSize: 6, epochs: 3, initialEpoch: 1, verbose: 0, validationSplit: 0.2);

        AssertSameRun(full, rest, uninterrupted, resumed, fromEpoch: 1);
    }
}
