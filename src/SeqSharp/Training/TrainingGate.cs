namespace SeqSharp.Training;

/// <summary>
/// Lets one thread at a time into a model's training calls (<c>Fit</c>, <c>Evaluate</c>, and any
/// later call that changes weights, optimizer or metric state): a second thread is refused at once
/// with an <see cref="InvalidOperationException"/>, before it has changed anything, so the running
/// call's result is unaffected.
/// </summary>
/// <remarks>
/// The thread already inside may enter again (a callback of <c>Fit</c> that calls
/// <c>Evaluate</c> runs on the training thread and is not concurrent). Refusing rather than waiting
/// matches what Keras users can rely on: one model trains on one thread. Prediction does not use the
/// gate.
/// </remarks>
internal sealed class TrainingGate
{
    private int _owner;   // managed thread id of the thread inside; 0 when free
    private int _depth;   // touched only by the owner

    /// <summary>Enters the gate for <paramref name="method"/> of model <paramref name="model"/>; dispose the result to leave.</summary>
    /// <exception cref="InvalidOperationException">Another thread is inside.</exception>
    public Lease Enter(string model, string method)
    {
        int me = Environment.CurrentManagedThreadId;
        int owner = Interlocked.CompareExchange(ref _owner, me, 0);
        if (owner != 0 && owner != me)
            throw new InvalidOperationException(
                $"Cannot run {method}(): model '{model}' is already training on another thread. Training calls (Fit, Evaluate) on one model run " +
                "one at a time; wait for the running call to return, or train a separate model. Predict may run on any thread.");
        _depth++;
        return new Lease(this);
    }

    private void Leave()
    {
        if (--_depth == 0)
            Volatile.Write(ref _owner, 0);
    }

    /// <summary>The right to run a training call; disposing it leaves the gate.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly TrainingGate _gate;

        internal Lease(TrainingGate gate) => _gate = gate;

        /// <inheritdoc />
        public void Dispose() => _gate.Leave();
    }
}
