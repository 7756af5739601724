namespace SeqSharp.Layers;

/// <summary>
/// What a layer accepts as input (Keras <c>InputSpec</c>): a rank (exact or minimum) and fixed sizes
/// of some axes. Shapes include the batch axis. Checked in one place, <see cref="Layer.Call"/>.
/// </summary>
/// <param name="Rank">The exact rank, or null.</param>
/// <param name="MinRank">The minimum rank, or null.</param>
/// <param name="Axes">Fixed sizes by axis; negative axes count from the end (-1 is the feature axis).</param>
public sealed record InputSpec(int? Rank = null, int? MinRank = null, IReadOnlyDictionary<int, long>? Axes = null)
{
    /// <summary>Throws when <paramref name="shape"/> (batch axis included) does not fit this spec.</summary>
    /// <exception cref="ArgumentException">The rank or an axis size differs; the message names the layer, the expectation and the shape received.</exception>
    public void Check(string layerName, IReadOnlyList<long> shape)
    {
        string prefix = $"Input 0 of layer '{layerName}' is incompatible with the layer:";
        string received = $"Full shape received: {ShapeText.Format(shape)}.";
        if (Rank is int rank && shape.Count != rank)
            throw new ArgumentException($"{prefix} expected rank {rank}, found rank {shape.Count}. {received}");
        if (MinRank is int minRank && shape.Count < minRank)
            throw new ArgumentException($"{prefix} expected rank >= {minRank}, found rank {shape.Count}. {received}");
        if (Axes is null)
            return;
        foreach (var (axis, size) in Axes)
        {
            int index = axis < 0 ? shape.Count + axis : axis;
            if (index < 0 || index >= shape.Count || (shape[index] != size && shape[index] != -1 && size != -1))
                throw new ArgumentException(
                    $"{prefix} expected axis {axis} of the input shape to have value {size}, but received input with shape {ShapeText.Format(shape)}.");
        }
    }
}
