namespace SeqSharp.Callbacks;

/// <summary>
/// Stops training when a training batch ends with a NaN or infinite loss (Keras <c>TerminateOnNaN</c>).
/// </summary>
/// <remarks>
/// By default it writes <c>Batch N: Invalid loss, terminating training</c> and sets
/// <c>Model.StopTraining</c>, so the epoch ends (with its validation and epoch-end hooks) and
/// <c>OnTrainEnd</c> runs. With <c>raiseError: true</c> it throws instead, skipping every cleanup hook.
/// </remarks>
/// <example>
/// <code>
/// model.Fit(x, y, epochs: 10, callbacks: [new TerminateOnNaN()]);
/// </code>
/// </example>
public sealed class TerminateOnNaN : Callback
{
    /// <summary>Creates the callback.</summary>
    /// <param name="raiseError">Throw an <see cref="InvalidOperationException"/> at once instead of stopping gracefully. Default false.</param>
    public TerminateOnNaN(bool raiseError = false) => RaiseError = raiseError;

    /// <summary>Whether a NaN or infinite loss throws rather than stopping gracefully.</summary>
    public bool RaiseError { get; }

    /// <summary>Where the message goes; the console by default.</summary>
    public TextWriter Output { get; set; } = Console.Out;

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The loss is NaN or infinite and <see cref="RaiseError"/> is set.</exception>
    public override void OnTrainBatchEnd(int batch, IDictionary<string, double> logs)
    {
        if (!logs.TryGetValue("loss", out double loss) || double.IsFinite(loss))
            return;
        if (RaiseError)
            throw new InvalidOperationException($"NaN or Inf loss encountered at batch {batch}. Loss value: {PythonFormat.Repr(loss)}. Terminating training immediately.");
        Output.WriteLine($"Batch {batch}: Invalid loss, terminating training");
        if (Model is not null)
            Model.StopTraining = true;
    }
}
