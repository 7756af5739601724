using Microsoft.Extensions.Logging;
using SeqSharp.Callbacks;

namespace SeqSharp.Training;

/// <summary>Sends structured training events to an <see cref="ILogger"/> (added to Fit's callbacks when the model has a logger factory).</summary>
internal sealed partial class TrainingLog(ILogger logger) : Callback
{
    private System.Diagnostics.Stopwatch _epochClock = new();
    private int _epochs;

    public override void OnTrainBegin(IDictionary<string, double> logs)
    {
        _epochs = Params.TryGetValue("epochs", out var e) ? (int)e : 0;
        int steps = Params.TryGetValue("steps", out var s) ? (int)s : 0;
        TrainBegin(logger, Model?.Name ?? "", _epochs, steps);
    }

    public override void OnEpochBegin(int epoch, IDictionary<string, double> logs) => _epochClock = System.Diagnostics.Stopwatch.StartNew();

    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        var values = new Dictionary<string, double>(logs);
        EpochEnd(logger, epoch + 1, _epochs, _epochClock.Elapsed.TotalMilliseconds,
            logs.TryGetValue("loss", out var loss) ? loss : double.NaN,
            logs.TryGetValue("val_loss", out var valLoss) ? valLoss : null, values);
    }

    public override void OnTrainEnd(IDictionary<string, double> logs)
    {
        if (Model?.StopTraining == true)
            Stopped(logger, Model.Name);
        TrainEnd(logger, Model?.Name ?? "", new Dictionary<string, double>(logs));
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Training {Model} for {Epochs} epochs of {Steps} steps")]
    private static partial void TrainBegin(ILogger logger, string model, int epochs, int steps);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Epoch {Epoch}/{Epochs} took {ElapsedMs:F0} ms: loss {Loss}, val_loss {ValLoss}; {Logs}")]
    private static partial void EpochEnd(ILogger logger, int epoch, int epochs, double elapsedMs, double loss, double? valLoss, IReadOnlyDictionary<string, double> logs);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Training of {Model} stopped early by a callback")]
    private static partial void Stopped(ILogger logger, string model);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Training of {Model} finished: {Logs}")]
    private static partial void TrainEnd(ILogger logger, string model, IReadOnlyDictionary<string, double> logs);
}
