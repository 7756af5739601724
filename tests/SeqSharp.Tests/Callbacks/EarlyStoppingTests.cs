using SeqSharp.Callbacks;
using SeqSharp.Tests.TestSupport;
using static SeqSharp.Tests.Callbacks.CallbackHarness;

namespace SeqSharp.Tests.Callbacks;

public class EarlyStoppingTests
{
    private static EarlyStopping Quiet(EarlyStopping callback)
    {
        callback.Output = new StringWriter();
        callback.Warnings = new StringWriter();
        return callback;
    }

    [Fact]
    public void OnEpochEnd_NoImprovementForPatienceEpochs_StopsAtThatEpoch()
    {
        var model = TinyDense(1);
        var callback = Attach(Quiet(new EarlyStopping(patience: 2)), model);
        // Best 0.9 at epoch 1; epochs 2 and 3 do not beat it: wait reaches 2 at epoch 3.
        int epochs = Run(callback, model, "val_loss", 1.0, 0.9, 0.95, 0.92, 0.91, 0.5);
        Assert.Equal(4, epochs);
        Assert.True(model.StopTraining);
        Assert.Equal(3, callback.StoppedEpoch);
        Assert.Equal(1, callback.BestEpoch);
        Assert.Equal(0.9, callback.Best);
    }

    [Fact]
    public void OnEpochEnd_SteadyImprovement_NeverStops()
    {
        var model = TinyDense(2);
        var callback = Attach(Quiet(new EarlyStopping(patience: 0)), model);
        Assert.Equal(5, Run(callback, model, "val_loss", 5, 4, 3, 2, 1));
        Assert.Equal(0, callback.StoppedEpoch);
        Assert.Equal(4, callback.BestEpoch);
    }

    [Fact]
    public void OnEpochEnd_PatienceZero_StopsAtFirstNonImprovement()
    {
        var model = TinyDense(3);
        var callback = Attach(Quiet(new EarlyStopping(patience: 0)), model);
        Assert.Equal(2, Run(callback, model, "val_loss", 1.0, 1.0, 0.5));   // equal is not better
        Assert.Equal(1, callback.StoppedEpoch);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(-0.1)]   // Keras uses |minDelta|
    public void OnEpochEnd_ChangeSmallerThanMinDelta_IsNoImprovement(double minDelta)
    {
        var model = TinyDense(4);
        var callback = Attach(Quiet(new EarlyStopping(minDelta: minDelta, patience: 1)), model);
        // 0.95 + 0.1 is not below 1.0: no improvement, wait 1 >= patience at epoch 1.
        Assert.Equal(2, Run(callback, model, "val_loss", 1.0, 0.95, 0.5));
        Assert.Equal(1, callback.StoppedEpoch);
        Assert.Equal(0.1, callback.MinDelta);
    }

    [Fact]
    public void OnEpochEnd_ModeMax_TreatsLargerAsBetter()
    {
        var model = TinyDense(5);
        var callback = Attach(Quiet(new EarlyStopping(monitor: "score", mode: "max", patience: 1)), model);
        Assert.Equal(3, Run(callback, model, "score", 0.1, 0.5, 0.4, 0.9));
        Assert.Equal(2, callback.StoppedEpoch);
        Assert.Equal(0.5, callback.Best);
    }

    [Fact]
    public void OnEpochEnd_AutoModeWithAccuracyMetric_Maximizes()
    {
        var model = TinyDense(6, metrics: ["binary_accuracy"]);
        var callback = Attach(Quiet(new EarlyStopping(monitor: "val_binary_accuracy", patience: 1)), model);
        Assert.Equal(3, Run(callback, model, "val_binary_accuracy", 0.6, 0.7, 0.65, 0.9));
        Assert.Equal(0.7, callback.Best);
    }

    [Fact]
    public void OnEpochEnd_AutoModeWithErrorMetric_Minimizes()
    {
        var model = TinyDense(7, metrics: ["mae"]);
        var callback = Attach(Quiet(new EarlyStopping(monitor: "mae", patience: 1)), model);
        Assert.Equal(3, Run(callback, model, "mae", 0.6, 0.5, 0.55, 0.1));
        Assert.Equal(0.5, callback.Best);
    }

    [Fact]
    public void OnEpochEnd_AutoModeWithUnknownDirection_ThrowsAskingForMode()
    {
        var model = TinyDense(8);
        var callback = Attach(Quiet(new EarlyStopping(monitor: "custom_score")), model);
        callback.OnTrainBegin(Logs());
        var e = Assert.Throws<InvalidOperationException>(() => callback.OnEpochEnd(0, Logs(("custom_score", 1))));
        Assert.Contains("monitor=custom_score", e.Message);
        Assert.Contains("mode: \"max\"", e.Message);
    }

    [Fact]
    public void OnEpochEnd_BaselineNeverBeaten_StopsAfterPatienceEvenWithoutReset()
    {
        var model = TinyDense(9);
        // Epoch 0 improves on "no best yet" but not on the baseline: wait stays 1; epoch 1: wait 2 >= 2.
        var withBaseline = Attach(Quiet(new EarlyStopping(patience: 2, baseline: 0.5)), model);
        Assert.Equal(2, Run(withBaseline, model, "val_loss", 0.9, 0.95, 0.97, 0.99));
        Assert.Equal(1, withBaseline.StoppedEpoch);

        var without = Attach(Quiet(new EarlyStopping(patience: 2)), model);
        Assert.Equal(3, Run(without, model, "val_loss", 0.9, 0.95, 0.97, 0.99));
        Assert.Equal(2, without.StoppedEpoch);
    }

    [Fact]
    public void OnEpochEnd_BeforeStartFromEpoch_IgnoresValues()
    {
        var model = TinyDense(10);
        var callback = Attach(Quiet(new EarlyStopping(patience: 0, startFromEpoch: 2)), model);
        // Epochs 0 and 1 are warm-up; epoch 2 sets the best (3); epoch 3 (4) is worse: stop.
        Assert.Equal(4, Run(callback, model, "val_loss", 1, 2, 3, 4, 0));
        Assert.Equal(3, callback.StoppedEpoch);
        Assert.Equal(3, callback.Best);
        Assert.Equal(2, callback.BestEpoch);
    }

    [Fact]
    public void OnEpochEnd_MonitorMissing_WarnsOnceWithAvailableNamesAndDoesNotStop()
    {
        var model = TinyDense(11);
        var warnings = new StringWriter();
        var callback = Attach(new EarlyStopping(patience: 0) { Warnings = warnings }, model);
        Assert.Equal(3, Run(callback, model, "loss", 3, 2, 5));
        Assert.False(model.StopTraining);
        string text = warnings.ToString();
        Assert.Contains("Early stopping conditioned on metric `val_loss` which is not available. Available metrics are: loss", text);
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void OnTrainEnd_RestoreBestWeights_PutsBackTheBestEpochsWeights()
    {
        var model = TinyDense(12);
        var callback = Attach(Quiet(new EarlyStopping(patience: 2, restoreBestWeights: true, verbose: 1)), model);
        var output = (StringWriter)callback.Output;
        double[] values = [0.8, 0.5, 0.7, 0.9, 0.1];
        var atEpochEnd = new List<IReadOnlyList<Tensor>>();
        callback.OnTrainBegin(Logs());
        int epoch = 0;
        for (; epoch < values.Length && !model.StopTraining; epoch++)
        {
            using (no_grad())
                model.Layers[0].Weights[0].fill_(epoch + 1.0);   // weights that say which epoch they are from
            atEpochEnd.Add(model.GetWeights());
            callback.OnEpochEnd(epoch, Logs(("val_loss", values[epoch])));
        }
        callback.OnTrainEnd(Logs());

        Assert.Equal(4, epoch);   // stopped at epoch 3
        TensorAssert.Close(atEpochEnd[1][0], model.GetWeights()[0], atol: 0, what: "restored kernel");
        Assert.Contains("Epoch 4: early stopping", output.ToString());
        Assert.Contains("Restoring model weights from the end of the best epoch: 2.", output.ToString());
    }

    [Fact]
    public void Fit_ConstantLoss_StopsAfterPatienceAndHistoryEndsThere()
    {
        var model = TinyDense(13, learningRate: 0.0);   // no learning: every epoch has the same loss
        var (x, y) = Line(14, 16);
        var history = model.Fit(x, y, batchSize: 4, epochs: 10, verbose: 0, shuffle: false,
            callbacks: [Quiet(new EarlyStopping(monitor: "loss", patience: 2))]);
        Assert.Equal([0, 1, 2], history.Epochs);
    }

    [Fact]
    public void Fit_RestoreBestWeightsWithScriptedValidation_EndsWithBestEpochWeights()
    {
        var model = TinyDense(15, learningRate: 0.1);
        var (x, y) = Line(16, 16);
        var snapshots = new List<IReadOnlyList<Tensor>>();
        var early = Quiet(new EarlyStopping(monitor: "val_score", mode: "min", patience: 2, restoreBestWeights: true));
        model.Fit(x, y, batchSize: 4, epochs: 10, verbose: 0, shuffle: false, callbacks:
        [
            Script("val_score", 5, 3, 4, 4.5, 1),
            // Tensors made inside Fit belong to its dispose scope: keep copies out of it.
            new LambdaCallback(onEpochEnd: (_, _) => snapshots.Add(model.GetWeights().Select(w => w.DetachFromDisposeScope()).ToList())),
            early,
        ]);
        Assert.Equal(4, snapshots.Count);   // epochs 0-3, stopped at 3
        Assert.Equal(3, early.StoppedEpoch);
        Assert.Equal(1, early.BestEpoch);
        var final = model.GetWeights();
        TensorAssert.Close(snapshots[1][0], final[0], atol: 0, what: "kernel");
        TensorAssert.Close(snapshots[1][1], final[1], atol: 0, what: "bias");
        Assert.True((snapshots[3][0] - final[0]).abs().max().item<float>() > 0, "training went on after the best epoch");
    }

    [Fact]
    public void OnTrainBegin_Reused_StartsAfresh()
    {
        var model = TinyDense(17);
        var callback = Attach(Quiet(new EarlyStopping(patience: 1)), model);
        Run(callback, model, "val_loss", 1, 2, 3);
        Assert.Equal(1, callback.StoppedEpoch);
        Assert.Equal(3, Run(callback, model, "val_loss", 9, 8, 7));
        Assert.Equal(0, callback.StoppedEpoch);
        Assert.Equal(7, callback.Best);
    }

    [Fact]
    public void Constructor_BadArguments_SayWhatWasReceived()
    {
        Assert.Contains("patience=-1", Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(patience: -1)).Message);
        Assert.Contains("mode='maximum'", Assert.Throws<ArgumentException>(() => new EarlyStopping(mode: "maximum")).Message);
        Assert.Contains("monitor=''", Assert.Throws<ArgumentException>(() => new EarlyStopping(monitor: "")).Message);
        Assert.Contains("startFromEpoch=-2", Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(startFromEpoch: -2)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(minDelta: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(baseline: double.PositiveInfinity));
    }
}
