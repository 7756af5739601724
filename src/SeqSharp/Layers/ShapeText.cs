namespace SeqSharp.Layers;

/// <summary>Formats shapes for messages and summaries.</summary>
internal static class ShapeText
{
    /// <summary><c>[32, 10, 1]</c>.</summary>
    public static string Format(IReadOnlyList<long> shape) => "[" + string.Join(", ", shape.Select(Size)) + "]";

    /// <summary>A size, with -1 (unknown) as Keras's <c>None</c>.</summary>
    public static string Size(long d) => d == -1 ? "None" : d.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Keras's summary form with the batch axis unknown: <c>(None, 10, 64)</c>.</summary>
    public static string WithBatch(IReadOnlyList<long> sampleShape) =>
        "(" + string.Join(", ", new[] { "None" }.Concat(sampleShape.Select(Size))) + ")";
}
