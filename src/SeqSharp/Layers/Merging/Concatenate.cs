using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Joins its inputs along one axis (Keras <c>Concatenate</c>): inputs of the same shape except on
/// <see cref="Axis"/> give an output whose size there is the sum of theirs.
/// </summary>
/// <remarks>
/// <para>No weights. <see cref="Axis"/> counts the batch axis as 0, as Keras does: the default -1
/// joins features, <c>axis: 1</c> joins time steps of <c>(batch, timesteps, features)</c> inputs.</para>
/// <para>Masks (Keras 3): none when no input has one; otherwise an input without a mask counts as
/// unmasked, each mask is spread over its input's features, the spread masks are joined along
/// <see cref="Axis"/>, and a step of the output is kept where any of its features is kept. Joining
/// features therefore ORs the masks; joining time steps joins them.</para>
/// </remarks>
/// <example>
/// <code>
/// var both = new Concatenate().Call([lstmOutput, context]);   // (batch, 10, 32) and (batch, 10, 16) → (batch, 10, 48)
/// </code>
/// </example>
public sealed class Concatenate : Merge
{
    /// <summary>Creates the layer.</summary>
    /// <param name="axis">The axis to join along, the batch axis being 0; negative counts from the end. Default -1.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is 0, the batch axis.</exception>
    public Concatenate(int axis = -1, string? name = null, ScalarType? dtype = null) : base(name, dtype)
    {
        if (axis == 0)
            throw new ArgumentOutOfRangeException(nameof(axis), axis, "Expected a non-batch axis to concatenate along (axis 0 is the batch). Received: axis=0.");
        Axis = axis;
    }

    /// <summary>The axis joined along (batch axis 0; negative from the end).</summary>
    public int Axis { get; }

    /// <summary>The sample-shape index (no batch axis) of <see cref="Axis"/> for inputs of that sample rank, or -1 when out of range.</summary>
    private int SampleAxis(int sampleRank)
    {
        int axis = Axis < 0 ? Axis + sampleRank + 1 : Axis;
        return axis >= 1 && axis <= sampleRank ? axis - 1 : -1;
    }

    /// <inheritdoc />
    protected override void CheckShapes(IReadOnlyList<long[]> sampleShapes)
    {
        int rank = sampleShapes[0].Length;
        if (sampleShapes.Any(s => s.Length != rank))
            throw ShapeError(sampleShapes, "expects inputs of the same rank");
        int axis = SampleAxis(rank);
        if (axis < 0)
            throw ShapeError(sampleShapes, $"cannot concatenate along axis {Axis} of inputs of rank {rank + 1}");
        for (int k = 0; k < rank; k++)
        {
            if (k == axis)
                continue;
            var sizes = sampleShapes.Select(s => s[k]).Where(d => d != -1).Distinct().Count();
            if (sizes > 1)
                throw ShapeError(sampleShapes, $"requires inputs with matching shapes except for the concatenation axis {Axis}");
        }
    }

    /// <inheritdoc />
    public override long[] ComputeOutputShape(IReadOnlyList<long[]> sampleShapes)
    {
        CheckShapes(sampleShapes);
        int axis = SampleAxis(sampleShapes[0].Length);
        var output = sampleShapes[0].ToArray();
        for (int k = 0; k < output.Length; k++)
        {
            if (k != axis && output[k] == -1)
                output[k] = sampleShapes.Select(s => s[k]).FirstOrDefault(d => d != -1, -1);
        }
        output[axis] = sampleShapes.Any(s => s[axis] == -1) ? -1 : sampleShapes.Sum(s => s[axis]);
        return output;
    }

    /// <inheritdoc />
    protected override Tensor MergeFunction(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks) => cat(inputs.ToArray(), Axis);

    /// <summary>The joined masks, reduced over the features (see the remarks); null when no input has a mask.</summary>
    protected override Tensor? ComputeMask(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, IReadOnlyDictionary<string, object?> callArgs)
    {
        if (masks.All(m => m is null))
            return null;
        var spread = inputs.Select((x, i) => masks[i] is { } m ? Spread(m, x) : ones(x.shape, ScalarType.Bool)).ToArray();
        return cat(spread, Axis).any(-1);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["axis"] = Axis;
        return config;
    }

    internal static Concatenate FromConfig(LayerConfig c) => new(c.Int("axis", -1), c.Name, c.DType);
}
