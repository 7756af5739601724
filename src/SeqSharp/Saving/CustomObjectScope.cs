namespace SeqSharp.Saving;

/// <summary>
/// The custom objects of the load under way (Keras's <c>CustomObjectScope</c>): the
/// <c>customObjects</c> given to <see cref="Sequential.Load"/>, seen by code that rebuilds objects
/// from configs deep inside the load (a <see cref="Layers.Lambda"/> inside a wrapper, a custom layer),
/// then the process-wide <see cref="CustomObjects"/>. Flows with the async context, so concurrent
/// loads on other threads do not see each other's objects.
/// </summary>
internal static class CustomObjectScope
{
    private static readonly AsyncLocal<IReadOnlyDictionary<string, object>?> Current = new();

    /// <summary>Makes <paramref name="objects"/> visible until the result is disposed.</summary>
    public static IDisposable Enter(IReadOnlyDictionary<string, object>? objects)
    {
        var previous = Current.Value;
        Current.Value = objects;
        return new Restore(previous);
    }

    /// <summary>
    /// The first of <paramref name="names"/> (nulls skipped) found in the load's objects, then in the
    /// registry; a name <c>"package&gt;name"</c> also matches <c>"name"</c>. Null when none is found.
    /// </summary>
    public static (string Name, object Value)? Find(params string?[] names)
    {
        var candidates = names.Where(n => !string.IsNullOrEmpty(n)).Select(n => n!).ToList();
        candidates.AddRange(candidates.Where(n => n.Contains('>', StringComparison.Ordinal)).Select(n => n[(n.LastIndexOf('>') + 1)..]).ToList());
        var registered = CustomObjects.Registered;
        foreach (var source in new[] { Current.Value, registered })
        {
            if (source is null)
                continue;
            foreach (var name in candidates)
            {
                if (source.TryGetValue(name, out var value))
                    return (name, value);
            }
        }
        return null;
    }

    private sealed class Restore(IReadOnlyDictionary<string, object>? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
