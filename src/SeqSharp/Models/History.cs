using SeqSharp.Callbacks;

namespace SeqSharp;

/// <summary>
/// The per-epoch record of a <c>Fit</c> call (Keras <c>History</c>), returned by <c>Fit</c>:
/// <c>history["loss"][^1]</c> is the last epoch's training loss.
/// </summary>
public sealed class History : Callback
{
    private readonly Dictionary<string, List<double>> _values = new(StringComparer.Ordinal);
    private readonly List<int> _epochs = [];

    /// <summary>The epochs recorded (0-based, so an <c>initialEpoch</c> of 3 starts at 3).</summary>
    public IReadOnlyList<int> Epochs => _epochs;

    /// <summary>The names recorded, in the order first seen (<c>loss</c>, metrics, <c>val_loss</c>, ...).</summary>
    public IReadOnlyCollection<string> Keys => _values.Keys;

    /// <summary>Every value of one name, one per epoch (Keras <c>history.history[name]</c>).</summary>
    /// <exception cref="KeyNotFoundException">The name was never logged; the message lists those that were.</exception>
    public IReadOnlyList<double> this[string name] => _values.TryGetValue(name, out var list)
        ? list
        : throw new KeyNotFoundException($"History has no values named '{name}'. Recorded: {string.Join(", ", _values.Keys)}.");

    /// <summary>Whether values of that name were recorded.</summary>
    public bool ContainsKey(string name) => _values.ContainsKey(name);

    /// <summary>All values by name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>> Values => _values.ToDictionary(p => p.Key, p => (IReadOnlyList<double>)p.Value);

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        _epochs.Add(epoch);
        foreach (var (name, value) in logs)
        {
            if (!_values.TryGetValue(name, out var list))
                _values[name] = list = [];
            list.Add(value);
        }
    }
}
