namespace SeqSharp.Layers;

/// <summary>
/// The training mode of the calls running on the current thread (Keras's <c>training</c> call
/// argument), set by <c>Fit</c>, <c>Evaluate</c>, <c>Predict</c> and the interpretability tools for
/// the duration of their forward passes.
/// </summary>
/// <remarks>
/// The mode belongs to the call, not to the model: TorchSharp's <c>train()</c>/<c>eval()</c> flag is
/// shared by every thread using the model, so a <c>Predict</c> that switched it off during a
/// <c>Fit</c> on another thread would turn dropout off in the middle of training, and a <c>Fit</c> that
/// switched it on would make concurrent predictions noisy. A scope set here is seen only by layers
/// running on this thread; outside any scope, layers follow the model's flag (a plain
/// <c>model.Call(x)</c> after <c>train()</c> runs in training mode).
/// </remarks>
internal static class CallMode
{
    // 0: no scope (follow the module's flag), 1: inference, 2: training.
    [ThreadStatic] private static int t_mode;

    /// <summary>The mode set for this thread's calls, or null to follow each layer's own flag.</summary>
    public static bool? Current => t_mode switch { 1 => false, 2 => true, _ => null };

    /// <summary>Runs this thread's calls in training (<paramref name="training"/> true) or inference mode until disposed.</summary>
    public static Scope Use(bool training)
    {
        var scope = new Scope(t_mode);
        t_mode = training ? 2 : 1;
        return scope;
    }

    /// <summary>Restores the previous mode (scopes nest).</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly int _previous;

        internal Scope(int previous) => _previous = previous;

        /// <inheritdoc />
        public void Dispose() => t_mode = _previous;
    }
}
