namespace SeqSharp.Callbacks;

/// <summary>Dispatches every hook to a list of callbacks, in order (Keras <c>CallbackList</c>).</summary>
internal sealed class CallbackList(IReadOnlyList<Callback> callbacks)
{
    public IReadOnlyList<Callback> Callbacks { get; } = callbacks;

    public void Configure(Model model, IReadOnlyDictionary<string, object> parameters)
    {
        foreach (var c in Callbacks)
        {
            c.SetModel(model);
            c.SetParams(parameters);
        }
    }

    public void TrainBegin(IDictionary<string, double> logs) { foreach (var c in Callbacks) c.OnTrainBegin(logs); }
    public void TrainEnd(IDictionary<string, double> logs) { foreach (var c in Callbacks) c.OnTrainEnd(logs); }
    public void EpochBegin(int epoch, IDictionary<string, double> logs) { foreach (var c in Callbacks) c.OnEpochBegin(epoch, logs); }
    public void EpochEnd(int epoch, IDictionary<string, double> logs) { foreach (var c in Callbacks) c.OnEpochEnd(epoch, logs); }
    public void TrainBatchBegin(int batch, IDictionary<string, double> logs) { foreach (var c in Callbacks) c.OnTrainBatchBegin(batch, logs); }
    public void TrainBatchEnd(int batch, IDictionary<string, double> logs) { foreach (var c in Callbacks) c.OnTrainBatchEnd(batch, logs); }
    public void TestBegin(IDictionary<string, double> logs) { foreach (var c in Callbacks) c.OnTestBegin(logs); }
    public void TestEnd(IDictionary<string, double> logs) { foreach (var c in Callbacks) c.OnTestEnd(logs); }
    public void TestBatchBegin(int batch, IDictionary<string, double> logs) { foreach (var c in Callbacks) c.OnTestBatchBegin(batch, logs); }
    public void TestBatchEnd(int batch, IDictionary<string, double> logs) { foreach (var c in Callbacks) c.OnTestBatchEnd(batch, logs); }
    public void PredictBegin(IDictionary<string, double> logs) { foreach (var c in Callbacks) c.OnPredictBegin(logs); }
    public void PredictEnd(IDictionary<string, double> logs) { foreach (var c in Callbacks) c.OnPredictEnd(logs); }
    public void PredictBatchBegin(int batch, IDictionary<string, double> logs) { foreach (var c in Callbacks) c.OnPredictBatchBegin(batch, logs); }
    public void PredictBatchEnd(int batch, IDictionary<string, double> logs) { foreach (var c in Callbacks) c.OnPredictBatchEnd(batch, logs); }
}
