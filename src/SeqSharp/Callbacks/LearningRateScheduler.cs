namespace SeqSharp.Callbacks;

/// <summary>
/// Sets the learning rate at the start of every epoch from a function of the epoch and the current
/// rate (Keras <c>LearningRateScheduler</c>), and adds the rate to the epoch's logs as <c>learning_rate</c>.
/// </summary>
/// <example>
/// <code>
/// // Keep the rate for ten epochs, then decay it exponentially.
/// var scheduler = new LearningRateScheduler((epoch, lr) => epoch &lt; 10 ? lr : lr * Math.Exp(-0.1));
/// model.Fit(x, y, epochs: 15, callbacks: [scheduler]);
/// </code>
/// </example>
public sealed class LearningRateScheduler : Callback
{
    /// <summary>Creates the callback.</summary>
    /// <param name="schedule">Called at each epoch's start with the epoch (0-based) and the current rate; returns the new rate (finite, non-negative).</param>
    /// <param name="verbose">0 silent, 1 a message at each epoch. Default 0.</param>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="verbose"/> is negative.</exception>
    public LearningRateScheduler(Func<int, double, double> schedule, int verbose = 0)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (verbose < 0)
            throw new ArgumentOutOfRangeException(nameof(verbose), verbose, $"Expected verbose 0 or 1. Received: verbose={verbose}.");
        Schedule = schedule;
        Verbose = verbose;
    }

    /// <summary>The schedule: (epoch, current rate) → new rate.</summary>
    public Func<int, double, double> Schedule { get; }

    /// <summary>0 silent, 1 messages.</summary>
    public int Verbose { get; }

    /// <summary>Where messages go (<c>verbose: 1</c>); the console by default.</summary>
    public TextWriter Output { get; set; } = Console.Out;

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The model is not compiled, or the schedule returned a negative, infinite or NaN rate.</exception>
    public override void OnEpochBegin(int epoch, IDictionary<string, double> logs)
    {
        var optimizer = RequireOptimizer();
        double rate = Schedule(epoch, optimizer.LearningRate);
        if (!(double.IsFinite(rate) && rate >= 0))
            throw new InvalidOperationException(
                $"The output of the schedule function should be a finite, non-negative learning rate. Got: {PythonFormat.Repr(rate)} at epoch {epoch}.");
        optimizer.LearningRate = rate;
        if (Verbose > 0)
            Output.WriteLine($"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {PythonFormat.Repr(rate)}.");
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs) => logs["learning_rate"] = RequireOptimizer().LearningRate;

    private Optimizers.Optimizer RequireOptimizer() => Model?.Optimizer
        ?? throw new InvalidOperationException("LearningRateScheduler needs a compiled model: call Compile() before Fit().");
}
