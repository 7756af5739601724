namespace SeqSharp.Callbacks;

/// <summary>
/// A callback made of delegates, for simple custom behaviour without a subclass (Keras <c>LambdaCallback</c>).
/// Each delegate is optional; the hooks without one do nothing.
/// </summary>
/// <example>
/// <code>
/// var print = new LambdaCallback(onEpochEnd: (epoch, logs) => Console.WriteLine($"{epoch}: {logs["loss"]}"));
/// model.Fit(x, y, epochs: 5, callbacks: [print]);
/// </code>
/// </example>
/// <param name="onEpochBegin">Called with the epoch and its logs at each epoch's start.</param>
/// <param name="onEpochEnd">Called with the epoch and its logs at each epoch's end.</param>
/// <param name="onTrainBegin">Called with the logs when training starts.</param>
/// <param name="onTrainEnd">Called with the logs when training ends.</param>
/// <param name="onTrainBatchBegin">Called with the batch and its logs before each training batch.</param>
/// <param name="onTrainBatchEnd">Called with the batch and its logs after each training batch.</param>
public sealed class LambdaCallback(
    Action<int, IDictionary<string, double>>? onEpochBegin = null,
    Action<int, IDictionary<string, double>>? onEpochEnd = null,
    Action<IDictionary<string, double>>? onTrainBegin = null,
    Action<IDictionary<string, double>>? onTrainEnd = null,
    Action<int, IDictionary<string, double>>? onTrainBatchBegin = null,
    Action<int, IDictionary<string, double>>? onTrainBatchEnd = null) : Callback
{
    /// <inheritdoc />
    public override void OnEpochBegin(int epoch, IDictionary<string, double> logs) => onEpochBegin?.Invoke(epoch, logs);

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs) => onEpochEnd?.Invoke(epoch, logs);

    /// <inheritdoc />
    public override void OnTrainBegin(IDictionary<string, double> logs) => onTrainBegin?.Invoke(logs);

    /// <inheritdoc />
    public override void OnTrainEnd(IDictionary<string, double> logs) => onTrainEnd?.Invoke(logs);

    /// <inheritdoc />
    public override void OnTrainBatchBegin(int batch, IDictionary<string, double> logs) => onTrainBatchBegin?.Invoke(batch, logs);

    /// <inheritdoc />
    public override void OnTrainBatchEnd(int batch, IDictionary<string, double> logs) => onTrainBatchEnd?.Invoke(batch, logs);
}
