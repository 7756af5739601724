using SeqSharp.Callbacks;
using static SeqSharp.Tests.Callbacks.CallbackHarness;

namespace SeqSharp.Tests.Callbacks;

public class ReduceLROnPlateauTests
{
    /// <summary>Runs scripted epoch ends; returns the learning_rate each epoch's logs received.</summary>
    private static List<double> LoggedRates(ReduceLROnPlateau callback, Sequential model, string monitor, params double[] values)
    {
        Attach(callback, model);
        callback.OnTrainBegin(Logs());
        var rates = new List<double>();
        for (int epoch = 0; epoch < values.Length; epoch++)
        {
            var logs = Logs((monitor, values[epoch]));
            callback.OnEpochEnd(epoch, logs);
            rates.Add(logs["learning_rate"]);
        }
        return rates;
    }

    [Fact]
    public void OnEpochEnd_PlateauWithCooldown_ReducesAsComputedByHand()
    {
        var model = TinyDense(1, learningRate: 1.0);
        var callback = new ReduceLROnPlateau(factor: 0.5, patience: 2, cooldown: 2, minDelta: 0);
        // e0 best 1; e1 wait 1; e2 wait 2: 1 → 0.5, cooldown 2; e3 cooldown 1, wait 0; e4 cooldown 0, wait 1;
        // e5 wait 2: 0.5 → 0.25; e6 improves. Logs carry the rate before that epoch's reduction.
        var rates = LoggedRates(callback, model, "val_loss", 1, 1, 1, 1, 1, 1, 0.5);
        Assert.Equal([1, 1, 1, 0.5, 0.5, 0.5, 0.25], rates);
        Assert.Equal(0.25, model.Optimizer!.LearningRate);
        Assert.Equal(0.5, callback.Best);
    }

    [Fact]
    public void OnEpochEnd_AtMinLr_StopsReducing()
    {
        var model = TinyDense(2, learningRate: 1.0);
        var callback = new ReduceLROnPlateau(factor: 0.1, patience: 0, minLr: 0.05);
        var rates = LoggedRates(callback, model, "val_loss", 1, 1, 1, 1);
        // Reductions at the ends of epochs 1 (1 → 0.1) and 2 (→ max(0.01, 0.05)); at epoch 3 the rate is
        // not above minLr. Each epoch logs the rate it trained with.
        Assert.Equal([1, 1, 0.1, 0.05], rates);
        Assert.Equal(0.05, model.Optimizer!.LearningRate);
    }

    [Fact]
    public void OnEpochEnd_ChangeWithinMinDelta_IsNoImprovement()
    {
        var model = TinyDense(3, learningRate: 1.0);
        var callback = new ReduceLROnPlateau(factor: 0.5, patience: 1, minDelta: 1e-3);
        LoggedRates(callback, model, "val_loss", 1.0, 0.9995);   // not below 1.0 - 1e-3
        Assert.Equal(0.5, model.Optimizer!.LearningRate);
        Assert.Equal(1.0, callback.Best);
    }

    [Fact]
    public void OnEpochEnd_AutoModeWithAccInName_Maximizes()
    {
        var model = TinyDense(4, learningRate: 1.0);
        var callback = new ReduceLROnPlateau(monitor: "val_accuracy", factor: 0.5, patience: 2, minDelta: 0);
        LoggedRates(callback, model, "val_accuracy", 0.5, 0.6, 0.55, 0.58);
        Assert.Equal(0.5, model.Optimizer!.LearningRate);   // reduced at epoch 3
        Assert.Equal(0.6, callback.Best);
    }

    [Fact]
    public void OnEpochEnd_MonitorMissing_WarnsAndStillLogsRate()
    {
        var model = TinyDense(5, learningRate: 0.3);
        var warnings = new StringWriter();
        var callback = Attach(new ReduceLROnPlateau(patience: 0) { Warnings = warnings }, model);
        callback.OnTrainBegin(Logs());
        var logs = Logs(("loss", 1));
        callback.OnEpochEnd(0, logs);
        callback.OnEpochEnd(1, Logs(("loss", 2)));
        Assert.Equal(0.3, logs["learning_rate"]);
        Assert.Equal(0.3, model.Optimizer!.LearningRate);
        Assert.Contains("Learning rate reduction is conditioned on metric `val_loss` which is not available. Available metrics are: loss,learning_rate.", warnings.ToString());
    }

    [Fact]
    public void OnEpochEnd_Verbose_WritesKerasMessage()
    {
        var model = TinyDense(6, learningRate: 0.001);
        var output = new StringWriter();
        var callback = new ReduceLROnPlateau(patience: 0, verbose: 1) { Output = output };
        LoggedRates(callback, model, "val_loss", 1, 1);
        Assert.Equal("Epoch 2: ReduceLROnPlateau reducing learning rate to 0.0001.", output.ToString().Trim());
    }

    [Fact]
    public void Fit_FlatLoss_ReducesEachEpochAndHistoryRecordsRates()
    {
        // A rate this small leaves float32 weights unchanged, so every epoch has exactly the same loss.
        var model = TinyDense(7, learningRate: 1e-12);
        var (x, y) = Line(8, 8);
        var history = model.Fit(x, y, batchSize: 4, epochs: 4, verbose: 0, shuffle: false,
            callbacks: [new ReduceLROnPlateau(monitor: "loss", factor: 0.5, patience: 1)]);
        Assert.Equal([1e-12, 1e-12, 5e-13, 2.5e-13], history["learning_rate"]);
        Assert.Equal(1.25e-13, model.Optimizer!.LearningRate);
    }

    [Fact]
    public void OnTrainBegin_Reused_ResetsBestAndWait()
    {
        var model = TinyDense(9, learningRate: 1.0);
        var callback = new ReduceLROnPlateau(patience: 3);
        LoggedRates(callback, model, "val_loss", 0.1, 0.2, 0.2);
        Assert.Equal(2, callback.Wait);
        LoggedRates(callback, model, "val_loss", 5);
        Assert.Equal(0, callback.Wait);
        Assert.Equal(5, callback.Best);
    }

    [Fact]
    public void Constructor_BadArguments_SayWhatWasReceived()
    {
        Assert.Contains("ReduceLROnPlateau does not support a factor >= 1.0. Received factor=1",
            Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(factor: 1.0)).Message);
        Assert.Contains("factor=-0.5", Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(factor: -0.5)).Message);
        Assert.Contains("patience=-1", Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(patience: -1)).Message);
        Assert.Contains("cooldown=-1", Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(cooldown: -1)).Message);
        Assert.Contains("minLr=-1", Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(minLr: -1)).Message);
        Assert.Contains("mode='up'", Assert.Throws<ArgumentException>(() => new ReduceLROnPlateau(mode: "up")).Message);
    }
}
