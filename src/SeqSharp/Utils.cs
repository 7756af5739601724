using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp;

/// <summary>Process-wide helpers, as in <c>keras.utils</c>.</summary>
public static class Utils
{
    /// <summary>
    /// Seeds every random generator SeqSharp uses (TorchSharp's, which draws initial weights,
    /// shuffles and dropout masks), like <c>keras.utils.set_random_seed</c>: two runs of the same
    /// script with the same seed give the same weights and the same training history.
    /// </summary>
    public static void SetRandomSeed(long seed)
    {
        torch.manual_seed(seed);
        torch.random.manual_seed(seed);
    }

    /// <summary>
    /// Resets the automatic layer names, so the next <c>Dense</c> is called <c>dense</c> again
    /// (like <c>keras.backend.clear_session</c>).
    /// </summary>
    public static void ClearSession() => Layers.LayerNames.Reset();

    /// <summary>
    /// Pads sequences of different lengths to one length (Keras <c>keras.utils.pad_sequences</c>):
    /// a <c>(samples, maxlen)</c> tensor, shorter sequences filled with <paramref name="value"/>,
    /// longer ones cut.
    /// </summary>
    /// <typeparam name="T">The element type of the sequences, e.g. <c>int</c> token indices.</typeparam>
    /// <param name="sequences">The sequences, e.g. <c>List&lt;int[]&gt;</c> of word indices; empty ones become all padding.</param>
    /// <param name="maxlen">The length of the result, positive; null for the longest sequence's length.</param>
    /// <param name="dtype">The element type of the result; Keras's default int32.</param>
    /// <param name="padding"><c>"pre"</c> (default, padding before each sequence) or <c>"post"</c> (after).</param>
    /// <param name="truncating"><c>"pre"</c> (default, drop the start of long sequences) or <c>"post"</c> (drop the end).</param>
    /// <param name="value">The padding value.</param>
    /// <returns>A <c>(samples, maxlen)</c> tensor of <paramref name="dtype"/>.</returns>
    /// <exception cref="ArgumentException">A null sequence, or an unknown padding or truncating mode.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxlen"/> is not positive.</exception>
    /// <example>
    /// <code>
    /// Utils.PadSequences([[1], [2, 3], [4, 5, 6]]);            // [[0, 0, 1], [0, 2, 3], [4, 5, 6]]
    /// Utils.PadSequences([[1], [2, 3], [4, 5, 6]], maxlen: 2);  // [[0, 1], [2, 3], [5, 6]]
    /// </code>
    /// </example>
    public static Tensor PadSequences<T>(IEnumerable<IEnumerable<T>> sequences, int? maxlen = null, ScalarType dtype = ScalarType.Int32,
        string padding = "pre", string truncating = "pre", double value = 0.0) where T : INumber<T>
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (padding is not ("pre" or "post"))
            throw new ArgumentException($"Padding type \"{padding}\" not understood. Expected \"pre\" or \"post\".", nameof(padding));
        if (truncating is not ("pre" or "post"))
            throw new ArgumentException($"Truncating type \"{truncating}\" not understood. Expected \"pre\" or \"post\".", nameof(truncating));
        if (maxlen is <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxlen), maxlen, $"Expected a positive maxlen. Received: maxlen={maxlen}.");
        var rows = sequences.Select((s, i) => s?.Select(v => double.CreateChecked(v)).ToArray()
            ?? throw new ArgumentException($"Sequence {i} is null.", nameof(sequences))).ToList();
        int length = maxlen ?? rows.Select(r => r.Length).DefaultIfEmpty(0).Max();
        var values = new double[rows.Count * length];
        Array.Fill(values, value);
        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            int count = Math.Min(row.Length, length);
            int from = truncating == "pre" ? row.Length - count : 0;
            int to = padding == "pre" ? length - count : 0;
            Array.Copy(row, from, values, i * length + to, count);
        }
        // As NumPy's cast: float values become integers by truncation toward zero.
        using var asDouble = torch.tensor(values, new long[] { rows.Count, length }, ScalarType.Float64);
        return asDouble.to_type(dtype);
    }
}
