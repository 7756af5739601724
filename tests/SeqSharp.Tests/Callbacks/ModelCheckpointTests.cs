using SeqSharp.Callbacks;
using SeqSharp.Tests.TestSupport;
using static SeqSharp.Tests.Callbacks.CallbackHarness;

namespace SeqSharp.Tests.Callbacks;

public class ModelCheckpointTests
{
    private static string[] Files(TempFolder folder) =>
        Directory.GetFiles(folder.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder.Path, f)).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void Fit_EveryEpoch_WritesOneFilePerEpochWithThatEpochsWeights()
    {
        using var folder = new TempFolder();
        var model = TinyDense(1);
        var (x, y) = Line(2, 12);
        var snapshots = new List<IReadOnlyList<Tensor>>();
        model.Fit(x, y, batchSize: 4, epochs: 3, verbose: 0, shuffle: false, callbacks:
        [
            new ModelCheckpoint(folder.File("w-{epoch:02d}.weights.h5"), saveWeightsOnly: true),
            new LambdaCallback(onEpochEnd: (_, _) => snapshots.Add(model.GetWeights().Select(w => w.DetachFromDisposeScope()).ToList())),
        ]);

        Assert.Equal(["w-01.weights.h5", "w-02.weights.h5", "w-03.weights.h5"], Files(folder));
        var fresh = TinyDense(3);
        fresh.LoadWeights(folder.File("w-02.weights.h5"));
        TensorAssert.Close(snapshots[1][0], fresh.GetWeights()[0], atol: 0, what: "kernel after epoch 2");
        TensorAssert.Close(snapshots[1][1], fresh.GetWeights()[1], atol: 0, what: "bias after epoch 2");
        Assert.Equal(6, fresh.Optimizer!.Iterations);   // the optimizer's state came along: 2 epochs of 3 batches
    }

    [Fact]
    public void Fit_SaveBestOnly_WritesOnlyImprovements()
    {
        using var folder = new TempFolder();
        var model = TinyDense(4);
        var (x, y) = Line(5, 8);
        var output = new StringWriter();
        model.Fit(x, y, batchSize: 4, epochs: 5, verbose: 0, callbacks:
        [
            Script("val_loss", 3, 1, 2, 0.5, 0.5),
            new ModelCheckpoint(folder.File("best-{epoch}.weights.h5"), saveBestOnly: true, saveWeightsOnly: true, verbose: 1) { Output = output },
        ]);
        Assert.Equal(["best-1.weights.h5", "best-2.weights.h5", "best-4.weights.h5"], Files(folder));
        string text = output.ToString();
        Assert.Contains($"Epoch 1: val_loss improved from inf to 3.00000, saving model to {folder.File("best-1.weights.h5")}", text);
        Assert.Contains("Epoch 3: val_loss did not improve from 1.00000", text);
        Assert.Contains("Epoch 5: val_loss did not improve from 0.50000", text);   // equal is not better
    }

    [Fact]
    public void Fit_InitialValueThreshold_MustBeBeatenFirst()
    {
        using var folder = new TempFolder();
        var model = TinyDense(6);
        var (x, y) = Line(7, 8);
        var checkpoint = new ModelCheckpoint(folder.File("m-{epoch}.weights.h5"), saveBestOnly: true, saveWeightsOnly: true, initialValueThreshold: 1.5);
        model.Fit(x, y, epochs: 4, verbose: 0, callbacks: [Script("val_loss", 3, 1, 2, 0.5), checkpoint]);
        Assert.Equal(["m-2.weights.h5", "m-4.weights.h5"], Files(folder));
        Assert.Equal(0.5, checkpoint.Best);
    }

    [Fact]
    public void Fit_ModeMaxOnAccuracy_KeepsHighest()
    {
        using var folder = new TempFolder();
        var model = TinyDense(8);
        var (x, y) = Line(9, 8);
        model.Fit(x, y, epochs: 4, verbose: 0, callbacks:
        [
            Script("val_accuracy", 0.5, 0.4, 0.7, 0.6),
            new ModelCheckpoint(folder.File("a-{epoch}-{val_accuracy:.1f}.weights.h5"), monitor: "val_accuracy", mode: "max", saveBestOnly: true, saveWeightsOnly: true),
        ]);
        Assert.Equal(["a-1-0.5.weights.h5", "a-3-0.7.weights.h5"], Files(folder));
    }

    [Fact]
    public void Fit_SaveFreqInBatches_CountsAcrossEpochsAsKeras()
    {
        using var folder = new TempFolder();
        var model = TinyDense(10);
        var (x, y) = Line(11, 10);
        // 5 batches per epoch, a save every 2 batches counted across epochs:
        // epoch 1 after batches 2 and 4; epoch 2 after batches 1, 3 and 5 (1-based).
        model.Fit(x, y, batchSize: 2, epochs: 2, verbose: 0, shuffle: false,
            callbacks: [new ModelCheckpoint(folder.File("{epoch}-{batch}.weights.h5"), saveFreq: 2, saveWeightsOnly: true)]);
        Assert.Equal(["1-2.weights.h5", "1-4.weights.h5", "2-1.weights.h5", "2-3.weights.h5", "2-5.weights.h5"], Files(folder));
    }

    [Fact]
    public void Fit_MissingFolder_IsCreated()
    {
        using var folder = new TempFolder();
        var model = TinyDense(12);
        var (x, y) = Line(13, 4);
        model.Fit(x, y, epochs: 1, verbose: 0, callbacks: [new ModelCheckpoint(folder.File("a/b/m.weights.h5"), saveWeightsOnly: true)]);
        Assert.Equal([Path.Combine("a", "b", "m.weights.h5")], Files(folder));
    }

    [Fact]
    public void OnEpochEnd_SaveBestOnlyWithMissingMonitor_WarnsAndSavesAnyway()
    {
        using var folder = new TempFolder();
        var model = TinyDense(14);
        var warnings = new StringWriter();
        var checkpoint = Attach(new ModelCheckpoint(folder.File("m.weights.h5"), saveBestOnly: true, saveWeightsOnly: true) { Warnings = warnings }, model);
        checkpoint.OnEpochEnd(0, Logs(("loss", 1)));
        Assert.Equal(["m.weights.h5"], Files(folder));
        Assert.Contains("Can save best model only with val_loss available.", warnings.ToString());
    }

    [Fact]
    public void OnEpochEnd_PlaceholderNotInLogs_ThrowsNamingTheFilepath()
    {
        using var folder = new TempFolder();
        var model = TinyDense(15);
        var checkpoint = Attach(new ModelCheckpoint(folder.File("m-{val_mae:.2f}.weights.h5"), saveWeightsOnly: true), model);
        var e = Assert.Throws<KeyNotFoundException>(() => checkpoint.OnEpochEnd(0, Logs(("loss", 1))));
        Assert.Contains("Failed to format this callback filepath", e.Message);
        Assert.Contains("val_mae", e.Message);
        Assert.Empty(Files(folder));
    }

    [Fact]
    public void Constructor_WeightsOnlyWithoutWeightsH5_ThrowsKerasMessage()
    {
        var e = Assert.Throws<ArgumentException>(() => new ModelCheckpoint("m.h5", saveWeightsOnly: true));
        Assert.Contains("must end in `.weights.h5`", e.Message);
        Assert.Contains("filepath=m.h5", e.Message);
    }

    [Fact]
    public void Constructor_WholeModelWithoutKerasExtension_ThrowsKerasMessage()
    {
        Assert.Contains("must end in `.keras`", Assert.Throws<ArgumentException>(() => new ModelCheckpoint("m.weights")).Message);
        Assert.Contains("filepath=m.h5", Assert.Throws<ArgumentException>(() => new ModelCheckpoint("m.h5")).Message);
    }

    [Fact]
    public void Fit_WholeModel_WritesKerasFilesThatLoadCompiledWithTheirEpochsState()
    {
        using var folder = new TempFolder();
        var model = TinyDense(40);
        var (x, y) = Line(41, 12);
        var snapshots = new List<IReadOnlyList<Tensor>>();
        var checkpoint = new ModelCheckpoint(folder.File("m-{epoch}.keras"));
        Assert.False(checkpoint.SaveWeightsOnly);
        model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false, callbacks:
        [
            checkpoint,
            new LambdaCallback(onEpochEnd: (_, _) => snapshots.Add(model.GetWeights().Select(w => w.DetachFromDisposeScope()).ToList())),
        ]);

        Assert.Equal(["m-1.keras", "m-2.keras"], Files(folder));
        var first = Sequential.Load(folder.File("m-1.keras"));
        TensorAssert.Close(snapshots[0][0], first.GetWeights()[0], atol: 0, what: "kernel after epoch 1");
        Assert.Equal(3, first.Optimizer!.Iterations);
        Assert.Equal(model.Optimizer!.ClassName, first.Optimizer.ClassName);
        Assert.Equal(model.Loss!.ClassName, first.Loss!.ClassName);
    }

    [Fact]
    public void Constructor_BadSaveFreqOrMode_SaysWhatWasReceived()
    {
        Assert.Contains("Unrecognized saveFreq: batch", Assert.Throws<ArgumentException>(() => new ModelCheckpoint("m.weights.h5", saveWeightsOnly: true, saveFreq: "batch")).Message);
        Assert.Contains("saveFreq=0", Assert.Throws<ArgumentOutOfRangeException>(() => new ModelCheckpoint("m.weights.h5", saveFreq: 0, saveWeightsOnly: true)).Message);
        Assert.Contains("mode='best'", Assert.Throws<ArgumentException>(() => new ModelCheckpoint("m.weights.h5", saveWeightsOnly: true, mode: "best")).Message);
    }
}
