using SeqSharp.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp;

public partial class Model
{
    private readonly List<KerasTensor> _inputs = [];
    private readonly List<KerasTensor> _outputs = [];
    private readonly List<Node> _nodes = [];
    private readonly List<Layer> _graphLayers = [];

    /// <summary>
    /// Creates a model from the layer calls between its inputs and outputs (Keras's Functional
    /// <c>Model(inputs, outputs)</c>). The layers keep their weights: a sub-model built from a
    /// trained model's tensors (an encoder, a feature extractor) shares them.
    /// </summary>
    /// <param name="inputs">The model's inputs, each made by <see cref="Input"/>, in the order <c>Fit</c> and <c>Predict</c> take the arrays.</param>
    /// <param name="outputs">The model's outputs, in the order <c>PredictMulti</c> returns them.</param>
    /// <param name="name">The model name; automatic (<c>functional</c>, <c>functional_1</c>, ...) when null.</param>
    /// <exception cref="ArgumentException">
    /// An input that is not an <see cref="Input"/> or is given twice, an input no output depends on,
    /// an output that depends on an input not given, or two layers with one name. The message names
    /// the tensors and layers.
    /// </exception>
    public Model(IReadOnlyList<KerasTensor> inputs, IReadOnlyList<KerasTensor> outputs, string? name = null)
        : this(name ?? LayerNames.Next("Functional"))
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        BuildGraph(inputs, outputs);
    }

    /// <summary>A model with one input and one output.</summary>
    /// <inheritdoc cref="Model(IReadOnlyList{KerasTensor}, IReadOnlyList{KerasTensor}, string?)"/>
    public Model(KerasTensor inputs, KerasTensor outputs, string? name = null) : this([inputs], [outputs], name)
    {
    }

    /// <summary>A model with several inputs and one output.</summary>
    /// <inheritdoc cref="Model(IReadOnlyList{KerasTensor}, IReadOnlyList{KerasTensor}, string?)"/>
    public Model(IReadOnlyList<KerasTensor> inputs, KerasTensor outputs, string? name = null) : this(inputs, [outputs], name)
    {
    }

    /// <summary>A model with one input and several outputs.</summary>
    /// <inheritdoc cref="Model(IReadOnlyList{KerasTensor}, IReadOnlyList{KerasTensor}, string?)"/>
    public Model(KerasTensor inputs, IReadOnlyList<KerasTensor> outputs, string? name = null) : this([inputs], outputs, name)
    {
    }

    /// <summary>The model's inputs (symbolic), in order; empty for a <see cref="Sequential"/> model.</summary>
    public IReadOnlyList<KerasTensor> Inputs => _inputs;

    /// <summary>The model's outputs (symbolic), in order; empty for a <see cref="Sequential"/> model.</summary>
    public IReadOnlyList<KerasTensor> Outputs => _outputs;

    /// <summary>The names of the outputs as Keras names them in logs and per-output losses: each output's layer name.</summary>
    public IReadOnlyList<string> OutputNames => _outputs.Select(t => t.Layer.Name).ToList();

    /// <summary>The graph's layers: input layers first, then each layer once in the order the graph computes them.</summary>
    private protected IReadOnlyList<Layer> GraphLayers => _graphLayers;

    /// <summary>The graph's calls in the order they run.</summary>
    internal IReadOnlyList<Node> Nodes => _nodes;

    private bool GraphBuilt => _graphLayers.Count > 0 && _graphLayers.All(l => l.Built);

    private ScalarType GraphInputDType =>
        _graphLayers.FirstOrDefault(l => l is not InputLayer)?.DType ?? ScalarType.Float32;

    private void BuildGraph(IReadOnlyList<KerasTensor> inputs, IReadOnlyList<KerasTensor> outputs)
    {
        if (inputs.Count == 0)
            throw new ArgumentException("A functional model needs at least one input.", nameof(inputs));
        if (outputs.Count == 0)
            throw new ArgumentException("A functional model needs at least one output.", nameof(outputs));
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i] is not Input)
                throw new ArgumentException(
                    inputs[i] is null ? $"Input {i} is null." :
                    $"Input {i} ({inputs[i].Name}) is not a model input: the inputs of a model are made by new Input(shape: ...). " +
                    "To start a model from a layer's output, make an Input of that shape and apply the following layers to it.", nameof(inputs));
            if (inputs.Take(i).Contains(inputs[i]))
                throw new ArgumentException($"Input '{inputs[i].Name}' is given twice: each input is given once.", nameof(inputs));
        }
        if (outputs.Any(o => o is null))
            throw new ArgumentException("An output is null.", nameof(outputs));

        // Depth-first from the outputs: every call the outputs depend on, each after its inputs.
        var order = new List<Node>();
        var done = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var onPath = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var used = new HashSet<KerasTensor>(ReferenceEqualityComparer.Instance);
        void Visit(KerasTensor tensor, string neededBy)
        {
            if (tensor.Node is null)
            {
                if (!inputs.Contains(tensor))
                    throw new ArgumentException(
                        $"Graph disconnected: the output {neededBy} depends on input '{tensor.Name}', which is not among the model's inputs " +
                        $"[{string.Join(", ", inputs.Select(t => t.Name))}]. Add it to the inputs.", nameof(outputs));
                used.Add(tensor);
                return;
            }
            var node = tensor.Node;
            if (done.Contains(node))
                return;
            if (!onPath.Add(node))
                throw new ArgumentException($"The graph has a cycle through layer '{node.Layer.Name}'.", nameof(outputs));
            foreach (var input in node.Inputs)
                Visit(input, neededBy);
            onPath.Remove(node);
            done.Add(node);
            order.Add(node);
        }
        foreach (var output in outputs)
            Visit(output, $"'{output.Name}'");
        var unused = inputs.Where(i => !used.Contains(i)).ToList();
        if (unused.Count > 0)
            throw new ArgumentException(
                $"Input(s) {string.Join(", ", unused.Select(i => $"'{i.Name}'"))} are not used by any output " +
                $"[{string.Join(", ", outputs.Select(o => o.Name))}]: remove them from the inputs, or connect them.", nameof(inputs));

        _inputs.AddRange(inputs);
        _outputs.AddRange(outputs);
        _nodes.AddRange(order);
        var layers = new List<Layer>();
        layers.AddRange(inputs.Select(i => (Layer)((Input)i).InputLayer));
        foreach (var node in order)
        {
            if (!layers.Contains(node.Layer))
                layers.Add(node.Layer);
        }
        var clash = layers.GroupBy(l => l.Name).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
            throw new ArgumentException(
                $"The name '{clash.Key}' is used by {clash.Count()} different layers of the model; all layers of a model need unique names.", nameof(outputs));
        _graphLayers.AddRange(layers);
        foreach (var layer in layers)
            register_module(layer.Name, layer);
    }

    /// <summary>Runs the graph on one tensor per input; returns one tensor per output.</summary>
    internal IReadOnlyList<Tensor> RunGraph(IReadOnlyList<Tensor> inputs)
    {
        if (inputs.Count != _inputs.Count)
            throw new ArgumentException($"Model '{Name}' has {_inputs.Count} input(s) ({string.Join(", ", _inputs.Select(i => i.Name))}). Received {inputs.Count} tensor(s).");
        var values = new Dictionary<KerasTensor, (Tensor Value, Tensor? Mask)>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < inputs.Count; i++)
        {
            var x = inputs[i];
            if (!FitsInput(i, x))
                throw new ArgumentException(
                    $"Input {i} ('{_inputs[i].Name}') of model '{Name}' expects shape {ShapeText.WithBatch(_inputs[i].SampleShape)}. Received: {ShapeText.Format(x.shape)}.");
            values[_inputs[i]] = (x, null);
        }
        foreach (var node in _nodes)
        {
            var args = node.Inputs.Select(t => values[t]).ToList();
            var (outputs, mask) = node.Layer.CallNode(args.Select(a => a.Value).ToList(), args.Select(a => a.Mask).ToList(), node.MainInputs, node.CallArgs);
            for (int k = 0; k < node.Outputs.Count; k++)
                values[node.Outputs[k]] = (outputs[k], k == 0 ? mask : null);
        }
        return _outputs.Select(o => values[o].Value).ToList();
    }

    /// <summary>Whether a tensor (batch axis first) has input <paramref name="i"/>'s rank and known sizes.</summary>
    private bool FitsInput(int i, Tensor x)
    {
        var expected = _inputs[i].SampleShape;
        return x.dim() == expected.Length + 1 && !expected.Where((d, k) => d != -1 && d != x.shape[k + 1]).Any();
    }

    private Tensor GraphForward(Tensor x)
    {
        if (_inputs.Count == 0)
            throw new InvalidOperationException($"Model '{Name}' has no layers.");
        var inputs = _inputs.Count == 1 ? [x] : UnpackInputs(x);
        var outputs = RunGraph(inputs);
        return _outputs.Count == 1 ? outputs[0] : PackOutputs(outputs);
    }

    private long[] GraphInferOutputShape(long[] sampleShape, long batch)
    {
        var shapes = GraphOutputShapes(_inputs.Count == 1 ? [sampleShape] : CurrentInputShapes());
        return shapes.Count == 1 ? shapes[0] : [shapes.Sum(s => s.Aggregate(1L, (a, d) => a * d))];
    }

    /// <summary>Every output's sample shape for the inputs' sample shapes, checking every call without building.</summary>
    internal IReadOnlyList<long[]> GraphOutputShapes(IReadOnlyList<long[]> inputShapes)
    {
        var shapes = new Dictionary<KerasTensor, long[]>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < _inputs.Count; i++)
            shapes[_inputs[i]] = inputShapes[i];
        foreach (var node in _nodes)
        {
            var outputs = node.Layer.SymbolicOutputShapes(node.Inputs.Select(t => shapes[t]).ToList(), node.MainInputs, node.CallArgs);
            for (int k = 0; k < node.Outputs.Count; k++)
                shapes[node.Outputs[k]] = outputs[k];
        }
        return _outputs.Select(o => shapes[o]).ToList();
    }

    /// <summary>Keras's "Connected to": each input of each call of the layer as <c>layer[node][tensor]</c>.</summary>
    private string ConnectedTo(Layer layer) =>
        string.Join(", ", _nodes.Where(n => n.Layer == layer).SelectMany(n => n.Inputs).Select(t =>
            t.Node is null ? $"{t.Layer.Name}[0][0]" : $"{t.Node.Layer.Name}[{t.Node.Index}][{t.OutputIndex}]"));

    /// <summary>The output shape a summary shows: every output of the layer's first call in a graph.</summary>
    private string SummaryShape(Layer layer)
    {
        if (this is not Sequential && _nodes.FirstOrDefault(n => n.Layer == layer) is { } node && node.Outputs.Count > 1)
            return "[" + string.Join(", ", node.Outputs.Select(o => ShapeText.WithBatch(o.SampleShape))) + "]";
        if (this is not Sequential && layer is InputLayer input)
            return ShapeText.WithBatch(input.InputShape!);
        return layer.OutputShape is { } shape ? ShapeText.WithBatch(shape) : "?";
    }
}
