using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// The base of layers that take several input tensors (Keras's merge layers such as
/// <c>Concatenate</c> and <c>Add</c>, and the attention layers): built for a list of sample shapes,
/// called with a list of tensors and their masks, usable in functional graphs with
/// <c>Apply([a, b])</c>.
/// </summary>
/// <remarks>
/// <para>The single-input members of <see cref="Layer"/> (<see cref="Layer.Call"/>,
/// <see cref="Layer.Build"/>, <see cref="ComputeOutputShape(long[])"/>) refuse such a layer with a
/// message that says to pass a list; use <see cref="Call(IReadOnlyList{Tensor})"/>,
/// <see cref="Build(IReadOnlyList{long[]})"/> and <see cref="ComputeOutputShape(IReadOnlyList{long[]})"/>.</para>
/// <para>Call arguments that Keras passes by keyword (<c>use_causal_mask</c>,
/// <c>return_attention_scores</c>) come in <c>callArgs</c>, by their Keras names, so that a graph
/// node records and saves them as Keras does.</para>
/// </remarks>
public abstract class MultiInputLayer : Layer
{
    private static readonly IReadOnlyDictionary<string, object?> NoArgs = new Dictionary<string, object?>();

    /// <summary>Sets the name and the element type (such layers never declare an input shape).</summary>
    protected MultiInputLayer(string? name, ScalarType? dtype) : base(name, null, dtype)
    {
    }

    /// <summary>Sets the name and the element type from a config (the config constructor of a user-defined layer).</summary>
    protected MultiInputLayer(IReadOnlyDictionary<string, object?> config) : base(config)
    {
    }

    /// <summary>
    /// Whether a graph call passes the inputs as separate positional arguments (Keras's
    /// <c>MultiHeadAttention(query, value, key)</c>) rather than as one list (<c>Concatenate()([a, b])</c>,
    /// <c>Attention()([query, value])</c>): how model files record the call.
    /// </summary>
    public virtual bool PositionalInputs => false;

    /// <summary>The fewest inputs the layer takes.</summary>
    public virtual int MinInputs => 2;

    /// <summary>The most inputs the layer takes (null: no limit).</summary>
    public virtual int? MaxInputs => null;

    /// <summary>The sample shapes the layer was built for (no batch axis), or null before building.</summary>
    public IReadOnlyList<long[]>? BuiltInputShapes { get; private set; }

    /// <summary>The output sample shape (no batch axis), or null before building.</summary>
    public override long[]? OutputShape => BuiltInputShapes is null ? null : ComputeOutputShape(BuiltInputShapes);

    /// <summary>No single-input requirements: the inputs are checked together by <see cref="CheckShapes"/>.</summary>
    public override InputSpec InputSpec => new();

    /// <summary>Creates the weights (if any) for inputs of the given sample shapes.</summary>
    /// <exception cref="ArgumentException">The number or the shapes of the inputs do not fit the layer.</exception>
    public void Build(IReadOnlyList<long[]> sampleShapes)
    {
        ArgumentNullException.ThrowIfNull(sampleShapes);
        CheckCount(sampleShapes.Count);
        var shapes = sampleShapes.Select(s => s.ToArray()).ToList();
        CheckShapes(shapes);
        if (Built)
            return;
        BuildCore(shapes);
        BuiltInputShapes = shapes;
        MarkBuilt(shapes[0]);
    }

    /// <summary>Creates the weights; the shapes have passed <see cref="CheckShapes"/>. Nothing by default.</summary>
    protected virtual void BuildCore(IReadOnlyList<long[]> sampleShapes)
    {
    }

    /// <summary>
    /// Checks that the input sample shapes fit together (-1 marks a size known only when called) and
    /// throws an <see cref="ArgumentException"/> naming the layer and every shape otherwise.
    /// </summary>
    protected abstract void CheckShapes(IReadOnlyList<long[]> sampleShapes);

    /// <summary>The output sample shape for the input sample shapes (-1 for sizes known only when called).</summary>
    public abstract long[] ComputeOutputShape(IReadOnlyList<long[]> sampleShapes);

    /// <summary>
    /// The sample shapes of every output for the given call arguments: one output by default; layers
    /// with a second one (attention scores with <c>return_attention_scores</c>) override this.
    /// </summary>
    public virtual IReadOnlyList<long[]> ComputeOutputShapes(IReadOnlyList<long[]> sampleShapes, IReadOnlyDictionary<string, object?> callArgs) =>
        [ComputeOutputShape(sampleShapes)];

    /// <summary>Runs the layer on its inputs (batch axis first), building it on first use; differentiable.</summary>
    /// <exception cref="ArgumentException">The wrong number of inputs, or shapes that do not fit together.</exception>
    public Tensor Call(IReadOnlyList<Tensor> inputs) => CallWithMasks(inputs, null, null).Outputs[0];

    /// <summary>
    /// Runs the layer with the inputs' masks and call arguments, as a graph does: returns every output
    /// and the output mask (Keras <c>compute_mask</c>).
    /// </summary>
    /// <param name="inputs">The input tensors, batch axis first.</param>
    /// <param name="masks">One mask (or null) per input, or null for none.</param>
    /// <param name="callArgs">Keyword call arguments by their Keras names, or null for none.</param>
    /// <exception cref="ArgumentException">The wrong number of inputs or masks, shapes that do not fit, or an unknown call argument.</exception>
    public (IReadOnlyList<Tensor> Outputs, Tensor? Mask) CallWithMasks(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?>? masks,
        IReadOnlyDictionary<string, object?>? callArgs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        CheckCount(inputs.Count);
        if (inputs.Any(x => x is null))
            throw new ArgumentException($"Layer '{Name}' was given a null input.", nameof(inputs));
        if (inputs.Any(x => x.dim() < 1))
            throw new ArgumentException($"Layer '{Name}' expects inputs with a batch axis. Received shapes {string.Join(", ", inputs.Select(x => ShapeText.Format(x.shape)))}.", nameof(inputs));
        if (masks is not null && masks.Count != inputs.Count)
            throw new ArgumentException($"Layer '{Name}' expects one mask (or null) per input: {inputs.Count}. Received: {masks.Count}.", nameof(masks));
        if (masks is not null)
        {
            for (int i = 0; i < masks.Count; i++)
            {
                var mask = masks[i];
                var shape = inputs[i].shape;
                if (mask is not null && (mask.dim() < 1 || mask.dim() > shape.Length || !mask.shape.SequenceEqual(shape[..(int)mask.dim()])))
                    throw new ArgumentException(
                        $"Mask {i} passed to layer '{Name}' must have the leading axes of input {i}, e.g. {ShapeText.Format(shape[..Math.Min(2, shape.Length)])}. " +
                        $"Received: mask shape {ShapeText.Format(mask.shape)} for input shape {ShapeText.Format(shape)}.", nameof(masks));
            }
        }
        var shapes = inputs.Select(x => x.shape[1..]).ToList();
        if (inputs.Select(x => x.shape[0]).Distinct().Count() > 1)
            throw new ArgumentException(
                $"Layer '{Name}' ({ClassName}) cannot merge inputs with different batch sizes. Received shapes {string.Join(", ", inputs.Select(x => ShapeText.Format(x.shape)))}.", nameof(inputs));
        if (!Built)
            Build(shapes);
        else
            CheckShapes(shapes);
        var cast = inputs.Select(x => x.dtype != DType && CastsInput ? x.to_type(DType) : x).ToList();
        var boolMasks = (masks ?? new Tensor?[inputs.Count]).Select(m => m is null || m.dtype == ScalarType.Bool ? m : m.ne(0)).ToList();
        var args = callArgs ?? NoArgs;
        var outputs = ForwardMulti(cast, boolMasks, args);
        if (ActivityRegularizer is { } activity && Regularizers.ActivityPenalties.Collecting)
        {
            // As Keras: a penalty for every output (attention scores too), divided by the batch size.
            foreach (var output in outputs)
            {
                var penalty = activity.Compute(output);
                Regularizers.ActivityPenalties.Add(output.dim() > 0 && output.shape[0] > 0 ? penalty / output.shape[0] : penalty);
            }
        }
        return (outputs, ComputeMask(inputs, boolMasks, args));
    }

    /// <summary>
    /// The layer's computation: every output (the first is the layer's output). Inputs are cast to
    /// <see cref="Layer.DType"/>, masks are boolean or null.
    /// </summary>
    protected abstract IReadOnlyList<Tensor> ForwardMulti(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks,
        IReadOnlyDictionary<string, object?> callArgs);

    /// <summary>The mask of the output (Keras <c>compute_mask</c>); none by default.</summary>
    protected virtual Tensor? ComputeMask(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, IReadOnlyDictionary<string, object?> callArgs) => null;

    /// <summary>A merge layer has no single input: refused with the way to build it.</summary>
    protected sealed override void BuildCore(long[] sampleShape) =>
        throw new InvalidOperationException($"Layer '{Name}' ({ClassName}) takes {InputsText()} inputs: build it with Build(list of sample shapes).");

    /// <summary>A merge layer has no single input: refused with the way to ask.</summary>
    public sealed override long[] ComputeOutputShape(long[] sampleShape) =>
        throw new InvalidOperationException($"Layer '{Name}' ({ClassName}) takes {InputsText()} inputs: use ComputeOutputShape(list of sample shapes).");

    /// <summary>A merge layer has no single input: refused with the way to call it.</summary>
    public sealed override Tensor forward(Tensor x) =>
        throw new ArgumentException($"Layer '{Name}' ({ClassName}) takes {InputsText()} inputs: call it with a list of tensors, Call([a, b]), or Apply([a, b]) in a functional graph.");

    private void CheckCount(int count)
    {
        if (count < MinInputs || (MaxInputs is int max && count > max))
            throw new ArgumentException($"Layer '{Name}' ({ClassName}) expects {InputsText()} inputs. Received: {count}.");
    }

    private string InputsText() => MaxInputs == MinInputs ? $"{MinInputs}" : MaxInputs is int max ? $"{MinInputs} to {max}" : $"{MinInputs} or more";

    /// <summary>
    /// Calls the layer on symbolic tensors (Keras's <c>layer([a, b])</c> in the Functional API),
    /// building it for their shapes; returns the output (deconstructible when the call has several).
    /// </summary>
    /// <param name="inputs">The input tensors, in the layer's order.</param>
    /// <param name="callArgs">Keyword call arguments by their Keras names (such as <c>use_causal_mask</c>), or null.</param>
    /// <exception cref="ArgumentException">The number or the shapes of the inputs do not fit the layer.</exception>
    public KerasTensor Apply(IReadOnlyList<KerasTensor> inputs, IReadOnlyDictionary<string, object?>? callArgs = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return Record(inputs, inputs.Count, callArgs ?? NoArgs);
    }

    internal override IReadOnlyList<long[]> SymbolicOutputShapes(IReadOnlyList<long[]> inputShapes, int mainInputs, IReadOnlyDictionary<string, object?> callArgs)
    {
        Build(inputShapes);
        return ComputeOutputShapes(inputShapes, callArgs);
    }

    internal override (IReadOnlyList<Tensor> Outputs, Tensor? Mask) CallNode(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, int mainInputs,
        IReadOnlyDictionary<string, object?> callArgs) =>
        CallWithMasks(inputs, masks, callArgs);
}
