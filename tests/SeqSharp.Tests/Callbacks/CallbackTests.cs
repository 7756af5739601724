using SeqSharp.Callbacks;
using static SeqSharp.Tests.Callbacks.CallbackHarness;

namespace SeqSharp.Tests.Callbacks;

public class CallbackTests
{
    /// <summary>Records every hook with its index and log names.</summary>
    private sealed class Recorder : Callback
    {
        public List<string> Events { get; } = [];
        private static string Keys(IDictionary<string, double> logs) => string.Join(",", logs.Keys.Order(StringComparer.Ordinal));
        public override void OnTrainBegin(IDictionary<string, double> logs) => Events.Add("train_begin");
        public override void OnTrainEnd(IDictionary<string, double> logs) => Events.Add($"train_end {Keys(logs)}");
        public override void OnEpochBegin(int epoch, IDictionary<string, double> logs) => Events.Add($"epoch_begin {epoch}");
        public override void OnEpochEnd(int epoch, IDictionary<string, double> logs) => Events.Add($"epoch_end {epoch} {Keys(logs)}");
        public override void OnTrainBatchBegin(int batch, IDictionary<string, double> logs) => Events.Add($"train_batch_begin {batch}");
        public override void OnTrainBatchEnd(int batch, IDictionary<string, double> logs) => Events.Add($"train_batch_end {batch} {Keys(logs)}");
        public override void OnTestBegin(IDictionary<string, double> logs) => Events.Add("test_begin");
        public override void OnTestEnd(IDictionary<string, double> logs) => Events.Add($"test_end {Keys(logs)}");
        public override void OnTestBatchBegin(int batch, IDictionary<string, double> logs) => Events.Add($"test_batch_begin {batch}");
        public override void OnTestBatchEnd(int batch, IDictionary<string, double> logs) => Events.Add($"test_batch_end {batch} {Keys(logs)}");
        public override void OnPredictBegin(IDictionary<string, double> logs) => Events.Add("predict_begin");
        public override void OnPredictEnd(IDictionary<string, double> logs) => Events.Add("predict_end");
        public override void OnPredictBatchBegin(int batch, IDictionary<string, double> logs) => Events.Add($"predict_batch_begin {batch}");
        public override void OnPredictBatchEnd(int batch, IDictionary<string, double> logs) => Events.Add($"predict_batch_end {batch}");
    }

    [Fact]
    public void Fit_WithValidation_CallsHooksInKerasOrder()
    {
        var model = TinyDense(1, metrics: ["mae"]);
        var (x, y) = Line(2, 5);
        var (xv, yv) = Line(3, 3);
        var recorder = new Recorder();
        model.Fit(x, y, batchSize: 2, epochs: 2, verbose: 0, validationData: (xv, yv), callbacks: [recorder]);

        // 5 training samples in batches of 2: 3 batches; 3 validation samples: 2 batches.
        var epoch = new Func<int, string[]>(e =>
        [
            $"epoch_begin {e}",
            "train_batch_begin 0", "train_batch_end 0 loss,mae",
            "train_batch_begin 1", "train_batch_end 1 loss,mae",
            "train_batch_begin 2", "train_batch_end 2 loss,mae",
            "test_begin",
            "test_batch_begin 0", "test_batch_end 0 loss,mae",
            "test_batch_begin 1", "test_batch_end 1 loss,mae",
            "test_end loss,mae",
            $"epoch_end {e} loss,mae,val_loss,val_mae",
        ]);
        Assert.Equal(["train_begin", .. epoch(0), .. epoch(1), "train_end loss,mae,val_loss,val_mae"], recorder.Events);
    }

    [Fact]
    public void EvaluateAndPredict_CallTheirHooksInOrder()
    {
        var model = TinyDense(4);
        var (x, y) = Line(5, 3);
        var recorder = new Recorder();
        model.Evaluate(x, y, batchSize: 2, verbose: 0, callbacks: [recorder]);
        model.Predict(x, batchSize: 2, verbose: 0, callbacks: [recorder]);
        Assert.Equal(
        [
            "test_begin", "test_batch_begin 0", "test_batch_end 0 loss", "test_batch_begin 1", "test_batch_end 1 loss", "test_end loss",
            "predict_begin", "predict_batch_begin 0", "predict_batch_end 0", "predict_batch_begin 1", "predict_batch_end 1", "predict_end",
        ], recorder.Events);
    }

    [Fact]
    public void Fit_StopTrainingAtEpochEnd_RunsNoFurtherEpochButEndsTraining()
    {
        var model = TinyDense(6);
        var (x, y) = Line(7, 2);
        var recorder = new Recorder();
        model.Fit(x, y, batchSize: 2, epochs: 5, verbose: 0, callbacks:
        [
            new LambdaCallback(onEpochEnd: (e, _) => model.StopTraining = e == 1),
            recorder,
        ]);
        Assert.Equal(
        [
            "train_begin",
            "epoch_begin 0", "train_batch_begin 0", "train_batch_end 0 loss", "epoch_end 0 loss",
            "epoch_begin 1", "train_batch_begin 0", "train_batch_end 0 loss", "epoch_end 1 loss",
            "train_end loss",
        ], recorder.Events);
    }

    [Fact]
    public void Fit_CallbackAddsEpochLog_LaterCallbacksAndTrainEndSeeIt()
    {
        var model = TinyDense(8);
        var (x, y) = Line(9, 2);
        var recorder = new Recorder();
        var history = model.Fit(x, y, epochs: 1, verbose: 0, callbacks: [new LambdaCallback(onEpochEnd: (_, logs) => logs["extra"] = 1), recorder]);
        Assert.Contains("epoch_end 0 extra,loss", recorder.Events);
        Assert.Equal("train_end extra,loss", recorder.Events[^1]);
        Assert.Equal([1.0], history["extra"]);
    }
}
