namespace SeqSharp.Plotting;

/// <summary>Where the explanation plots put things: the order of rows, the swarm of dots, the waterfall's bars.</summary>
internal static class ExplanationLayout
{
    /// <summary>One bar of a waterfall: from <see cref="Start"/> to <see cref="End"/> on the output axis.</summary>
    public sealed record Step(string Name, double Start, double End);

    /// <summary>Column indices of a (samples, columns) array, largest mean |value| first (ties by index).</summary>
    public static int[] ByMeanMagnitude(double[,] values)
    {
        int samples = values.GetLength(0), columns = values.GetLength(1);
        var mean = Enumerable.Range(0, columns).Select(c => Enumerable.Range(0, samples).Average(s => Math.Abs(values[s, c]))).ToArray();
        return [.. Enumerable.Range(0, columns).OrderByDescending(c => mean[c]).ThenBy(c => c)];
    }

    /// <summary>Indices of <paramref name="values"/>, largest |value| first (ties by index).</summary>
    public static int[] ByMagnitude(double[] values) =>
        [.. Enumerable.Range(0, values.Length).OrderByDescending(i => Math.Abs(values[i])).ThenBy(i => i)];

    /// <summary>
    /// Vertical offsets for a beeswarm row: values are binned along the axis (40 bins over their
    /// range), and the dots of a bin alternate above and below the row's centre line, spaced so that
    /// the fullest bin just fills ±<paramref name="halfHeight"/>.
    /// </summary>
    public static double[] SwarmOffsets(double[] values, double halfHeight)
    {
        const int Bins = 40;
        var offsets = new double[values.Length];
        if (values.Length == 0)
            return offsets;
        double lo = values.Min(), hi = values.Max();
        var bin = values.Select(v => hi > lo ? (int)Math.Min(Bins - 1, (v - lo) / (hi - lo) * Bins) : 0).ToArray();
        int fullest = bin.GroupBy(b => b).Max(g => g.Count());
        double spacing = fullest > 1 ? 2 * halfHeight / (fullest - 1) : 0;
        spacing = Math.Min(spacing, halfHeight / 4);
        var seen = new int[Bins];
        foreach (int i in Enumerable.Range(0, values.Length).OrderBy(i => values[i]))
        {
            int k = seen[bin[i]]++;
            int side = k % 2 == 0 ? 1 : -1;
            offsets[i] = side * ((k + 1) / 2) * spacing;
        }
        return offsets;
    }

    /// <summary>
    /// The waterfall's bars from the bottom up: the values beyond the <paramref name="maxDisplay"/> - 1
    /// largest combined into one first bar (when any), then the shown values from the smallest
    /// magnitude to the largest, each starting where the previous ended, from
    /// <paramref name="baseValue"/> to <c>baseValue + Σ values</c>.
    /// </summary>
    public static List<Step> Waterfall(double[] values, string[] names, double baseValue, int maxDisplay)
    {
        var order = ByMagnitude(values);
        int shown = values.Length <= maxDisplay ? values.Length : maxDisplay - 1;
        var steps = new List<Step>();
        double position = baseValue;
        if (shown < values.Length)
        {
            double rest = order.Skip(shown).Sum(i => values[i]);
            steps.Add(new Step($"{values.Length - shown} other", position, position + rest));
            position += rest;
        }
        foreach (int i in order.Take(shown).Reverse())
        {
            steps.Add(new Step(names[i], position, position + values[i]));
            position += values[i];
        }
        return steps;
    }
}
