using static TorchSharp.torch;

namespace SeqSharp.Regularizers;

/// <summary>
/// Collects the activity penalties of one forward pass on the current thread (Keras's layer losses
/// of a call). Only training and evaluation steps collect them; a <c>Predict</c> on another thread
/// computes none and cannot disturb a step's total.
/// </summary>
internal sealed class ActivityPenalties : IDisposable
{
    [ThreadStatic]
    private static ActivityPenalties? _current;

    private readonly ActivityPenalties? _outer;
    private readonly List<Tensor> _penalties = [];

    private ActivityPenalties(ActivityPenalties? outer) => _outer = outer;

    /// <summary>Starts collecting on this thread until the returned object is disposed.</summary>
    public static ActivityPenalties Begin() => _current = new ActivityPenalties(_current);

    /// <summary>Whether a step on this thread is collecting.</summary>
    public static bool Collecting => _current is not null;

    /// <summary>Adds a penalty to the step collecting on this thread, if any.</summary>
    public static void Add(Tensor penalty) => _current?._penalties.Add(penalty);

    /// <summary>The penalties collected so far.</summary>
    public IReadOnlyList<Tensor> Penalties => _penalties;

    /// <inheritdoc />
    public void Dispose() => _current = _outer;
}
