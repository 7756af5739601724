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
        lock (Counts)
        {
            Counts.TryGetValue(baseName, out int count);
            Counts[baseName] = count + 1;
            return count == 0 ? baseName : $"{baseName}_{count}";
        }
    }

    /// <summary>A copy of the counters, for <see cref="Restore"/>.</summary>
    public static Dictionary<string, int> Save()
    {
        lock (Counts)
            return new Dictionary<string, int>(Counts, StringComparer.Ordinal);
    }

    /// <summary>Puts back counters saved by <see cref="Save"/>.</summary>
    public static void Restore(Dictionary<string, int> saved)
    {
        lock (Counts)
        {
            Counts.Clear();
            foreach (var (name, count) in saved)
                Counts[name] = count;
        }
    }

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
