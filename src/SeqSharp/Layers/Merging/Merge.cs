using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// The base of Keras's element-wise merge layers (<see cref="Add"/>, <see cref="Subtract"/>,
/// <see cref="Multiply"/>, <see cref="Average"/>, <see cref="Maximum"/>, <see cref="Minimum"/>):
/// inputs of the same shape, or shapes that broadcast (sizes of 1, and fewer axes, which are
/// added after the batch axis as Keras does), give one output of the broadcast shape.
/// </summary>
/// <remarks>
/// Masks (Keras 3): the output mask is the logical OR of the input masks when every input has one,
/// else none. <see cref="Multiply"/>, <see cref="Maximum"/> and <see cref="Minimum"/> also leave
/// masked steps out of their values; the others compute on every step.
/// </remarks>
public abstract class Merge : MultiInputLayer
{
    /// <summary>Sets the name and the element type.</summary>
    protected Merge(string? name, ScalarType? dtype) : base(name, dtype)
    {
    }

    /// <summary>One input is enough (Keras 3 merges a list of at least one tensor).</summary>
    public override int MinInputs => 1;

    /// <summary>Whether two inputs' sample shapes broadcast, checked right-aligned; otherwise an exception naming the layer and every shape.</summary>
    protected override void CheckShapes(IReadOnlyList<long[]> sampleShapes) => Broadcast(sampleShapes);

    /// <inheritdoc />
    public override long[] ComputeOutputShape(IReadOnlyList<long[]> sampleShapes) => Broadcast(sampleShapes);

    /// <summary>The broadcast sample shape (Keras's <c>_compute_elemwise_op_output_shape</c>, -1 where a size is unknown).</summary>
    private protected long[] Broadcast(IReadOnlyList<long[]> sampleShapes)
    {
        var output = sampleShapes[0];
        foreach (var shape in sampleShapes.Skip(1))
        {
            var (longer, shorter) = output.Length >= shape.Length ? (output, shape) : (shape, output);
            var result = longer.ToArray();
            int offset = longer.Length - shorter.Length;
            for (int k = 0; k < shorter.Length; k++)
            {
                long i = longer[offset + k], j = shorter[k];
                result[offset + k] = i == -1 || j == -1 ? -1 : i == 1 ? j : j == 1 ? i : i == j ? i : throw ShapeError(sampleShapes);
            }
            output = result;
        }
        return output;
    }

    /// <summary>An exception naming the layer and all the input shapes.</summary>
    private protected ArgumentException ShapeError(IReadOnlyList<long[]> sampleShapes, string? what = null) =>
        new($"Layer '{Name}' ({ClassName}) {what ?? "expects inputs of the same shape, or shapes that broadcast (sizes of 1)"}. " +
            $"Received shapes {string.Join(", ", sampleShapes.Select(ShapeText.WithBatch))}.");

    /// <inheritdoc />
    protected override IReadOnlyList<Tensor> ForwardMulti(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, IReadOnlyDictionary<string, object?> callArgs)
    {
        CallArguments.Check(this, callArgs);
        long rank = inputs.Max(x => x.dim());
        return [MergeFunction(inputs.Select(x => AddAxes(x, rank)).ToList(), masks.Select((m, i) => m is null ? null : AddAxes(m, m.dim() + rank - inputs[i].dim())).ToList())];
    }

    /// <summary>
    /// The merge itself, on inputs of equal rank (lower-rank inputs have had size-1 axes added after
    /// the batch axis, and their masks the same) and their boolean masks, null where none.
    /// </summary>
    protected abstract Tensor MergeFunction(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks);

    /// <summary>The OR of the masks when every input has one (Keras 3's <c>Merge.compute_mask</c>), else null.</summary>
    protected override Tensor? ComputeMask(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, IReadOnlyDictionary<string, object?> callArgs)
    {
        if (masks.Any(m => m is null))
            return null;
        long rank = inputs.Max(x => x.dim());
        Tensor? output = null;
        for (int i = 0; i < masks.Count; i++)
        {
            var m = AddAxes(masks[i]!, masks[i]!.dim() + rank - inputs[i].dim());
            output = output is null ? m : output.logical_or(m);
        }
        return output;
    }

    /// <summary>A mask broadcast to its input's shape (a <c>(batch, timesteps)</c> mask over every feature).</summary>
    private protected static Tensor Spread(Tensor mask, Tensor x)
    {
        var m = mask;
        while (m.dim() < x.dim())
            m = m.unsqueeze(-1);
        return m.expand(x.shape);
    }

    /// <summary>
    /// Folds <paramref name="op"/> over the inputs leaving masked steps out (Keras 3's
    /// <c>_apply_merge_op_and_or_mask</c>, for <see cref="Maximum"/> and <see cref="Minimum"/>): a masked
    /// step of one input takes the other operand's value, and the masks are ORed while every input
    /// so far has one.
    /// </summary>
    private protected static Tensor FoldMasked(Func<Tensor, Tensor, Tensor> op, IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks)
    {
        Tensor? output = null, outputMask = null;
        for (int i = 0; i < inputs.Count; i++)
        {
            var x = inputs[i];
            var mask = masks[i] is { } m ? Spread(m, x) : null;
            if (output is null)
            {
                output = x;
                outputMask = mask;
                continue;
            }
            if (mask is not null)
                x = where(mask, x, output);
            if (outputMask is not null)
                output = where(outputMask, output, x);
            outputMask = mask is not null && outputMask is not null ? outputMask.logical_or(mask) : null;
            output = op(output, x);
        }
        return inputs.Count == 1 ? output!.alias() : output!;
    }

    private static Tensor AddAxes(Tensor x, long rank)
    {
        while (x.dim() < rank)
            x = x.unsqueeze(1);
        return x;
    }
}
