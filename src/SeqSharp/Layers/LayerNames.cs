using System.Text.RegularExpressions;

namespace SeqSharp.Layers;

/// <summary>Keras's automatic layer names: the class name in snake case, then <c>_1</c>, <c>_2</c>, ...</summary>
internal static partial class LayerNames
{
    private static readonly Dictionary<string, int> Counts = new(StringComparer.Ordinal);

    /// <summary>The next unused name for a class, e.g. <c>simple_rnn</c> then <c>simple_rnn_1</c>.</summary>
    public static string Next(string className)
    {
        string baseName = ToSnakeCase(className);
        if (t_aside is { } aside)
        {
            aside.TryGetValue(baseName, out int drawn);
            aside[baseName] = drawn + 1;
            return drawn == 0 ? baseName : $"{baseName}_{drawn}";
        }
        lock (Counts)
        {
            Counts.TryGetValue(baseName, out int count);
            Counts[baseName] = count + 1;
            return count == 0 ? baseName : $"{baseName}_{count}";
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> with this thread drawing names from a private copy of the counters,
    /// so that names drawn meanwhile are not taken from other threads or from later models.
    /// </summary>
    public static T Aside<T>(Func<T> action)
    {
        if (t_aside is not null)
            return action();
        lock (Counts)
            t_aside = new Dictionary<string, int>(Counts, StringComparer.Ordinal);
        try
        {
            return action();
        }
        finally
        {
            t_aside = null;
        }
    }

    [ThreadStatic]
    private static Dictionary<string, int>? t_aside;

    public static void Reset()
    {
        lock (Counts)
            Counts.Clear();
    }

    /// <summary>Keras's <c>to_snake_case</c>: <c>SimpleRNN</c> → <c>simple_rnn</c>, <c>Conv1D</c> → <c>conv1d</c>.</summary>
    public static string ToSnakeCase(string name)
    {
        string first = WordStart().Replace(name, "$1_$2");
        return LowerUpper().Replace(first, "$1_$2").ToLowerInvariant();
    }

    [GeneratedRegex("(.)([A-Z][a-z]+)")]
    private static partial Regex WordStart();

    [GeneratedRegex("([a-z])([A-Z])")]
    private static partial Regex LowerUpper();
}
