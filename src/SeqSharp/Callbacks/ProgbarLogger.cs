namespace SeqSharp.Callbacks;

/// <summary>
/// Prints Keras's progress output (Keras <c>ProgbarLogger</c>); <c>Fit</c>, <c>Evaluate</c> and
/// <c>Predict</c> add one when <c>verbose</c> is 1 or 2.
/// </summary>
/// <remarks>
/// <c>verbose: 1</c> prints <c>Epoch k/n</c> and a bar updated after every batch, finished with the
/// epoch's values including validation; <c>verbose: 2</c> prints one line per epoch.
/// </remarks>
public sealed class ProgbarLogger : Callback
{
    private readonly TextWriter _output;
    private readonly bool _dynamic;
    private Progbar? _bar;
    private int _seen;
    private bool _inFit;

    /// <summary>Creates the logger.</summary>
    /// <param name="output">Where to write; the console by default.</param>
    /// <param name="dynamicDisplay">
    /// Whether to redraw one line in place; by default, when writing to a console whose output is not redirected.
    /// </param>
    public ProgbarLogger(TextWriter? output = null, bool? dynamicDisplay = null)
    {
        _output = output ?? Console.Out;
        _dynamic = dynamicDisplay ?? (output is null && !Console.IsOutputRedirected);
    }

    private int Verbose => Params.TryGetValue("verbose", out var v) ? (int)v : 1;

    private int Steps => Params.TryGetValue("steps", out var s) ? (int)s : 0;

    /// <inheritdoc />
    public override void OnTrainBegin(IDictionary<string, double> logs) => _inFit = true;

    /// <inheritdoc />
    public override void OnTrainEnd(IDictionary<string, double> logs) => _inFit = false;

    /// <inheritdoc />
    public override void OnEpochBegin(int epoch, IDictionary<string, double> logs)
    {
        int epochs = Params.TryGetValue("epochs", out var e) ? (int)e : 1;
        if (Verbose > 0)
            _output.WriteLine($"Epoch {epoch + 1}/{epochs}");
        Start(Steps);
    }

    /// <inheritdoc />
    public override void OnTrainBatchEnd(int batch, IDictionary<string, double> logs) => Advance(batch, logs);

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs) => Finish(logs);

    /// <inheritdoc />
    public override void OnTestBegin(IDictionary<string, double> logs)
    {
        if (!_inFit)
            Start(Params.TryGetValue("test_steps", out var s) ? (int)s : Steps);
    }

    /// <inheritdoc />
    public override void OnTestBatchEnd(int batch, IDictionary<string, double> logs)
    {
        if (!_inFit)
            Advance(batch, logs);
    }

    /// <inheritdoc />
    public override void OnTestEnd(IDictionary<string, double> logs)
    {
        if (!_inFit)
            Finish(logs);
    }

    /// <inheritdoc />
    public override void OnPredictBegin(IDictionary<string, double> logs) => Start(Steps);

    /// <inheritdoc />
    public override void OnPredictBatchEnd(int batch, IDictionary<string, double> logs) => Advance(batch, logs);

    /// <inheritdoc />
    public override void OnPredictEnd(IDictionary<string, double> logs) => Finish(logs);

    private void Start(int steps)
    {
        _bar = new Progbar(steps, Verbose, _output, _dynamic);
        _seen = 0;
    }

    private void Advance(int batch, IDictionary<string, double> logs)
    {
        _seen = batch + 1;
        _bar?.Update(_seen, logs);
    }

    private void Finish(IDictionary<string, double> logs)
    {
        _bar?.Update(_seen, logs, finalize: true);
        _bar = null;
    }
}
