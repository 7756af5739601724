using SeqSharp.Callbacks;
using static SeqSharp.Tests.Callbacks.CallbackHarness;

namespace SeqSharp.Tests.Callbacks;

public class LambdaCallbackTests
{
    [Fact]
    public void Fit_AllDelegates_CalledInKerasOrderWithArguments()
    {
        var model = TinyDense(1);
        var (x, y) = Line(2, 6);
        var events = new List<string>();
        model.Fit(x, y, batchSize: 3, epochs: 2, verbose: 0, callbacks:
        [
            new LambdaCallback(
                onEpochBegin: (e, _) => events.Add($"epoch_begin {e}"),
                onEpochEnd: (e, logs) => events.Add($"epoch_end {e} {string.Join(",", logs.Keys)}"),
                onTrainBegin: _ => events.Add("train_begin"),
                onTrainEnd: logs => events.Add($"train_end {string.Join(",", logs.Keys)}"),
                onTrainBatchBegin: (b, _) => events.Add($"batch_begin {b}"),
                onTrainBatchEnd: (b, logs) => events.Add($"batch_end {b} {string.Join(",", logs.Keys)}")),
        ]);
        Assert.Equal(
        [
            "train_begin",
            "epoch_begin 0", "batch_begin 0", "batch_end 0 loss", "batch_begin 1", "batch_end 1 loss", "epoch_end 0 loss",
            "epoch_begin 1", "batch_begin 0", "batch_end 0 loss", "batch_begin 1", "batch_end 1 loss", "epoch_end 1 loss",
            "train_end loss",
        ], events);
    }

    [Fact]
    public void Fit_NoDelegates_DoesNothing()
    {
        var model = TinyDense(3);
        var (x, y) = Line(4, 4);
        var history = model.Fit(x, y, epochs: 2, verbose: 0, callbacks: [new LambdaCallback()]);
        Assert.Equal(2, history.Epochs.Count);
    }

    [Fact]
    public void Fit_EpochEndAddsLogEntry_HistoryRecordsIt()
    {
        var model = TinyDense(5);
        var (x, y) = Line(6, 4);
        var history = model.Fit(x, y, epochs: 3, verbose: 0,
            callbacks: [new LambdaCallback(onEpochEnd: (e, logs) => logs["double_epoch"] = 2 * e)]);
        Assert.Equal([0, 2, 4], history["double_epoch"]);
    }

    [Fact]
    public void Fit_StopTrainingFromBatchEnd_EndsAfterThatBatchAndEpoch()
    {
        var model = TinyDense(7);
        var (x, y) = Line(8, 12);
        int batches = 0;
        var history = model.Fit(x, y, batchSize: 2, epochs: 5, verbose: 0, callbacks:
        [
            new LambdaCallback(onTrainBatchEnd: (b, _) =>
            {
                batches++;
                if (b == 2)
                    model.StopTraining = true;
            }),
        ]);
        Assert.Equal(3, batches);
        Assert.Single(history.Epochs);
    }
}
