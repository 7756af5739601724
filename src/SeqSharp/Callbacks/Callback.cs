namespace SeqSharp.Callbacks;

/// <summary>
/// Hooks into <c>Sequential.Fit</c>, <c>Evaluate</c> and <c>Predict</c> (Keras <c>keras.callbacks.Callback</c>). Every hook is empty:
/// override the ones you need.
/// </summary>
/// <remarks>
/// <para>Order within <c>Fit</c>, as in Keras: <see cref="OnTrainBegin"/>; per epoch
/// <see cref="OnEpochBegin"/>, then per batch <see cref="OnTrainBatchBegin"/> /
/// <see cref="OnTrainBatchEnd"/>, then the validation pass (<see cref="OnTestBegin"/>, test batch
/// hooks, <see cref="OnTestEnd"/>), then <see cref="OnEpochEnd"/>; finally <see cref="OnTrainEnd"/>.</para>
/// <para>Logs map names to values: batch logs hold the running epoch values of <c>loss</c> and the
/// metrics; epoch logs add <c>val_</c>-prefixed validation values. A callback may add entries to
/// the logs it receives (ReduceLROnPlateau adds <c>learning_rate</c>); callbacks later in the list,
/// such as the <see cref="History"/>, see them. Epochs and batches are counted from 0.</para>
/// <para>Hooks run inside the dispose scopes of <c>Fit</c>, <c>Evaluate</c> and <c>Predict</c>: a tensor a
/// hook creates (say, <c>Model.GetWeights()</c> copies) is disposed when the call returns, or at the end of the
/// epoch for batch hooks. Call <c>DetachFromDisposeScope()</c> on tensors to keep, and dispose them yourself.</para>
/// </remarks>
public abstract class Callback
{
    /// <summary>The model being trained, evaluated or run; set before the first hook.</summary>
    public Model? Model { get; private set; }

    /// <summary>The run's parameters: <c>epochs</c>, <c>steps</c> (batches per epoch), <c>verbose</c>.</summary>
    public IReadOnlyDictionary<string, object> Params { get; private set; } = new Dictionary<string, object>();

    /// <summary>Attaches the model (Keras <c>set_model</c>).</summary>
    public virtual void SetModel(Model model) => Model = model;

    /// <summary>Logs a warning through the model's logger (or the process-wide one), category <c>SeqSharp.Callbacks.&lt;type&gt;</c>.</summary>
    internal void LogWarning(string message) =>
        Training.ModelLog.CallbackWarning(SeqSharpLogging.For(Model, "SeqSharp.Callbacks." + GetType().Name), GetType().Name, message);

    /// <summary>Sets <see cref="Params"/> (Keras <c>set_params</c>).</summary>
    public virtual void SetParams(IReadOnlyDictionary<string, object> parameters) => Params = parameters;

    /// <summary>At the start of <c>Fit</c>.</summary>
    public virtual void OnTrainBegin(IDictionary<string, double> logs) { }

    /// <summary>At the end of <c>Fit</c>; <paramref name="logs"/> are the last epoch's.</summary>
    public virtual void OnTrainEnd(IDictionary<string, double> logs) { }

    /// <summary>At the start of an epoch.</summary>
    public virtual void OnEpochBegin(int epoch, IDictionary<string, double> logs) { }

    /// <summary>At the end of an epoch, after validation; <paramref name="logs"/> holds the epoch's values.</summary>
    public virtual void OnEpochEnd(int epoch, IDictionary<string, double> logs) { }

    /// <summary>Before a training batch.</summary>
    public virtual void OnTrainBatchBegin(int batch, IDictionary<string, double> logs) { }

    /// <summary>After a training batch; <paramref name="logs"/> holds the running epoch values.</summary>
    public virtual void OnTrainBatchEnd(int batch, IDictionary<string, double> logs) { }

    /// <summary>At the start of <c>Evaluate</c> (also the validation pass of <c>Fit</c>).</summary>
    public virtual void OnTestBegin(IDictionary<string, double> logs) { }

    /// <summary>At the end of <c>Evaluate</c>.</summary>
    public virtual void OnTestEnd(IDictionary<string, double> logs) { }

    /// <summary>Before an evaluation batch.</summary>
    public virtual void OnTestBatchBegin(int batch, IDictionary<string, double> logs) { }

    /// <summary>After an evaluation batch.</summary>
    public virtual void OnTestBatchEnd(int batch, IDictionary<string, double> logs) { }

    /// <summary>At the start of <c>Predict</c>.</summary>
    public virtual void OnPredictBegin(IDictionary<string, double> logs) { }

    /// <summary>At the end of <c>Predict</c>.</summary>
    public virtual void OnPredictEnd(IDictionary<string, double> logs) { }

    /// <summary>Before a prediction batch.</summary>
    public virtual void OnPredictBatchBegin(int batch, IDictionary<string, double> logs) { }

    /// <summary>After a prediction batch.</summary>
    public virtual void OnPredictBatchEnd(int batch, IDictionary<string, double> logs) { }
}
