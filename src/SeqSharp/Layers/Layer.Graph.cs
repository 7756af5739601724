using static TorchSharp.torch;

namespace SeqSharp.Layers;

public abstract partial class Layer
{
    private static readonly IReadOnlyDictionary<string, object?> NoCallArgs = new Dictionary<string, object?>();
    private int _nodes;

    /// <summary>
    /// Calls the layer on a symbolic tensor (Keras's <c>layer(x)</c> in the Functional API): builds
    /// the layer for the input's shape if it is not built, checks that the shape fits, and returns
    /// the symbolic output. Calling one layer on several tensors shares its weights between the calls.
    /// </summary>
    /// <param name="input">An <see cref="Input"/> or another layer's output.</param>
    /// <returns>The output; for a layer with several outputs the first, deconstructible into all of them.</returns>
    /// <exception cref="ArgumentException">The input's shape does not fit the layer; the message names both.</exception>
    public KerasTensor Apply(KerasTensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Record([input], 1, NoCallArgs);
    }

    /// <summary>Records a call: computes the output shapes (building the layer) and makes the node and its outputs.</summary>
    private protected KerasTensor Record(IReadOnlyList<KerasTensor> inputs, int mainInputs, IReadOnlyDictionary<string, object?> callArgs)
    {
        if (inputs.Any(t => t is null))
            throw new ArgumentException($"Layer '{Name}' was applied to a null tensor.", nameof(inputs));
        IReadOnlyList<long[]> shapes;
        try
        {
            shapes = SymbolicOutputShapes(inputs.Select(t => t.SampleShape).ToList(), mainInputs, callArgs);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new ArgumentException(
                $"Layer '{Name}' ({ClassName}) cannot be applied to {string.Join(", ", inputs.Select(t => $"{t.Name} of shape {ShapeText.WithBatch(t.SampleShape)}"))}: {e.Message}", e);
        }
        var node = new Node(this, inputs.ToList(), mainInputs, callArgs, _nodes++);
        node.Outputs = shapes.Select((s, k) => new KerasTensor(s, DType, $"{Name}[{node.Index}][{k}]") { Node = node, OutputIndex = k }).ToList();
        return node.Outputs[0];
    }

    /// <summary>
    /// The sample shapes of a call's outputs for its input sample shapes (building the layer on first
    /// use): one output by default; recurrent layers with <c>returnState</c> add their states.
    /// </summary>
    internal virtual IReadOnlyList<long[]> SymbolicOutputShapes(IReadOnlyList<long[]> inputShapes, int mainInputs, IReadOnlyDictionary<string, object?> callArgs)
    {
        if (mainInputs != 1 || inputShapes.Count != 1)
            throw new ArgumentException($"it takes one input. Received {inputShapes.Count}.");
        var shape = inputShapes[0];
        InputSpec.Check(Name, [-1, .. shape]);
        if (!Built)
            Build(shape);
        return [ComputeOutputShape(shape)];
    }

    /// <summary>
    /// Runs one graph call on concrete tensors: every output, and the mask of the first. The inputs
    /// are the node's (main inputs, then extra ones such as initial states), with their masks.
    /// </summary>
    internal virtual (IReadOnlyList<Tensor> Outputs, Tensor? Mask) CallNode(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, int mainInputs,
        IReadOnlyDictionary<string, object?> callArgs)
    {
        var (output, mask) = CallWithMask(inputs[0], masks[0]);
        return ([output], mask);
    }

    /// <summary>The output mask of a call made outside <see cref="CallWithMask"/> (a call with states), from the incoming mask.</summary>
    private protected Tensor? OutputMask(Tensor input, Tensor? mask) =>
        mask is null ? null : ComputeMask(input, mask.dtype == ScalarType.Bool ? mask : mask.ne(0));
}
