using Onnx;
using SeqSharp.Layers;
using static TorchSharp.torch;
using B = SeqSharp.Onnx.OnnxGraphBuilder;

namespace SeqSharp.Onnx;

internal static partial class OnnxExporter
{
    /// <summary>
    /// The graph of a functional model (<c>new Model(inputs, outputs)</c>): one graph input per model
    /// input under the input's name, one graph output per model output under its layer's name (a
    /// second output of the same layer, such as an LSTM's <c>state_c</c>, gets <c>_1</c>, <c>_2</c>, ...),
    /// the layer calls in the order the model runs them. A layer called twice writes its nodes twice
    /// over one set of initializers.
    /// </summary>
    /// <exception cref="NotSupportedException">A layer, option, call argument or mask without an ONNX form; the message names the layer.</exception>
    public static ModelProto ExportFunctional(Model model, int opset)
    {
        var dtype = model.InputDType;
        var other = model.Nodes.Select(n => n.Layer).FirstOrDefault(l => l.DType != dtype);
        if (other is not null)
            throw new NotSupportedException(
                $"Layer '{other.Name}' of type {other.ClassName} computes in {other.DType} while the model's first layer computes in {dtype}; " +
                "an exported graph has one float type. Build the model with one dtype.");
        var graph = new GraphProto { Name = model.Name };
        var g = new B(graph, dtype, opset);
        var outputNames = OutputNames(model);
        foreach (var name in model.Inputs.Select(i => i.Name).Concat(outputNames))
            g.Reserve(name);

        var values = new Dictionary<KerasTensor, Flow>(ReferenceEqualityComparer.Instance);
        var types = new Dictionary<KerasTensor, int>(ReferenceEqualityComparer.Instance);
        foreach (var input in model.Inputs)
        {
            // An input read only by Embedding layers holds token ids: int64, as a Sequential model that starts with an Embedding.
            var readers = model.Nodes.Where(n => n.Inputs.Contains(input)).ToList();
            types[input] = readers.Count > 0 && readers.All(n => n.Layer is Embedding && n.Inputs[0] == input) ? B.Int64Type : g.ElementType;
            graph.Input.Add(Info(input.Name, types[input], input.SampleShape,
                k => k == 0 ? (model.Inputs.Count == 1 ? "time" : $"{input.Name}_time") : $"{input.Name}_dim{k + 1}"));
            values[input] = new Flow(input.Name, null);
        }
        foreach (var node in model.Nodes)
        {
            var outputs = Call(g, node, node.Inputs.Select(t => values[t]).ToList());
            for (int k = 0; k < node.Outputs.Count; k++)
                values[node.Outputs[k]] = outputs[k];
        }
        for (int i = 0; i < model.Outputs.Count; i++)
        {
            var output = model.Outputs[i];
            g.Node("Identity", [values[output].X]);
            graph.Node[^1].Output[0] = outputNames[i];
            graph.Output.Add(Info(outputNames[i], types.GetValueOrDefault(output, g.ElementType), output.SampleShape, _ => null));
        }
        return Wrap(graph, opset);
    }

    /// <summary>Each output's layer name (Keras's <c>output_names</c>), made unique with <c>_1</c>, <c>_2</c>, ... and distinct from the input names.</summary>
    private static List<string> OutputNames(Model model)
    {
        var taken = new HashSet<string>(model.Inputs.Select(i => i.Name));
        var names = new List<string>();
        foreach (var name in model.OutputNames)
        {
            string unique = name;
            for (int k = 1; taken.Contains(unique); k++)
                unique = $"{name}_{k}";
            taken.Add(unique);
            names.Add(unique);
        }
        return names;
    }

    /// <summary>A graph input or output: <c>batch</c> dynamic, and sizes unknown in the model (-1) dynamic, named by <paramref name="dimName"/> (unnamed when it gives null).</summary>
    private static ValueInfoProto Info(string name, int elementType, long[] sampleShape, Func<int, string?> dimName)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        for (int k = 0; k < sampleShape.Length; k++)
        {
            shape.Dim.Add(sampleShape[k] != -1 ? new TensorShapeProto.Types.Dimension { DimValue = sampleShape[k] }
                : dimName(k) is { } param ? new TensorShapeProto.Types.Dimension { DimParam = param }
                : new TensorShapeProto.Types.Dimension());
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } },
        };
    }

    /// <summary>One layer call of the graph: every output the call has in the model (a recurrent layer's states with <c>returnState</c>).</summary>
    private static IReadOnlyList<Flow> Call(B g, Node node, IReadOnlyList<Flow> inputs)
    {
        switch (node.Layer)
        {
            case Rnn rnn:
            {
                var outputs = RecurrentLayer(g, rnn, inputs[0], inputs.Count > 1 ? inputs.Skip(1).Select(f => f.X).ToList() : null);
                return rnn.ReturnState ? outputs : [outputs[0]];
            }
            case Bidirectional bidirectional:
            {
                var outputs = BidirectionalLayer(g, bidirectional, inputs[0]);
                return bidirectional.ReturnState ? outputs : [outputs[0]];
            }
            case MultiInputLayer layer:
            {
                RequireNoTensorArguments(layer, node.CallArgs);
                var ranks = node.Inputs.Select(t => t.SampleShape.Length + 1).ToList();
                return layer switch
                {
                    Concatenate concatenate => [Concatenate(g, concatenate, inputs, ranks)],
                    Merge merge => [Merge(g, merge, inputs, ranks)],
                    Dot dot => [Dot(g, dot, inputs, ranks)],
                    MultiHeadAttention attention => MultiHeadAttention(g, attention, node.CallArgs, inputs),
                    Attention attention => Attention(g, attention, node.CallArgs, inputs),
                    _ => throw new NotSupportedException(
                        $"Layer '{layer.Name}' of type {layer.ClassName} cannot be exported to ONNX: SeqSharp's exporter knows its own layers only " +
                        "(of the layers with several inputs: Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum, Dot, Attention, AdditiveAttention, MultiHeadAttention)."),
                };
            }
            default:
                return [Layer(g, node.Layer, inputs[0])];
        }
    }

    /// <summary>
    /// Refuses call arguments that hold tensors (MultiHeadAttention's <c>attention_mask</c>,
    /// <c>query_mask</c>, ...): fixed when the graph was built, they have the batch size of that
    /// moment, which an exported graph with a dynamic batch cannot keep.
    /// </summary>
    private static void RequireNoTensorArguments(Layer layer, IReadOnlyDictionary<string, object?> callArgs)
    {
        foreach (var (key, value) in callArgs)
        {
            if (value is Tensor)
                throw new NotSupportedException(
                    $"Layer '{layer.Name}' of type {layer.ClassName} is called with a tensor for '{key}', fixed when the graph was built; an exported graph takes " +
                    "its masks from its inputs only (Embedding with maskZero, Masking) and use_causal_mask. Compute that mask from a model input, or export without it.");
        }
    }

    /// <summary><paramref name="count"/> size-1 axes after the batch axis (Keras's merge layers broadcast a lower-rank input so).</summary>
    private static string AddAxes(B g, string x, int count) =>
        count == 0 ? x : g.Node("Unsqueeze", [x, g.Int64s("axes", Enumerable.Range(1, count).Select(k => (long)k).ToArray())]);

    /// <summary>A mask of rank <paramref name="maskRank"/> with size-1 axes at the end up to <paramref name="rank"/>, to broadcast over the features.</summary>
    private static string Trailing(B g, string mask, int maskRank, int rank) =>
        maskRank >= rank ? mask : g.Node("Unsqueeze", [mask, g.Int64s("axes", Enumerable.Range(maskRank, rank - maskRank).Select(k => (long)k).ToArray())]);

    /// <summary>
    /// Add, Subtract, Average, Multiply, Maximum, Minimum as <c>Merge</c> computes them, masks
    /// included: Multiply counts a masked step as 1 (and gives 0 where every input is masked);
    /// Maximum and Minimum leave a masked step out; the output mask is the OR when every input has one.
    /// </summary>
    private static Flow Merge(B g, Merge merge, IReadOnlyList<Flow> inputs, IReadOnlyList<int> ranks)
    {
        int rank = ranks.Max();
        var xs = inputs.Select((f, i) => AddAxes(g, f.X, rank - ranks[i])).ToList();
        var masks = inputs.Select((f, i) => f.Mask is null ? (Flow?)null : new Flow(AddAxes(g, f.Mask, rank - ranks[i]), null, f.MaskRank + rank - ranks[i])).ToList();
        var spread = masks.Select(m => m is null ? null : Trailing(g, m.Value.X, m.Value.MaskRank, rank)).ToList();
        bool allMasked = masks.All(m => m is not null);
        string Fold(string op) => xs.Skip(1).Aggregate(xs[0], (a, b) => g.Node(op, [a, b]));
        var y = merge switch
        {
            Add => Fold("Add"),
            Subtract => Fold("Sub"),
            Average => g.Node("Div", [Fold("Add"), g.Scalar("count", xs.Count)]),
            Multiply => MultiplyMasked(g, xs, spread, allMasked),
            Maximum => FoldMasked(g, "Max", xs, spread),
            Minimum => FoldMasked(g, "Min", xs, spread),
            _ => throw new NotSupportedException($"Layer '{merge.Name}' of type {merge.ClassName} cannot be exported to ONNX: SeqSharp's exporter knows its own merge layers only."),
        };
        if (!allMasked)
            return new Flow(y, null);
        var mask = masks.Skip(1).Aggregate(masks[0]!.Value.X, (a, m) => g.Node("Or", [a, m!.Value.X]));
        return new Flow(y, mask, masks[0]!.Value.MaskRank);
    }

    /// <summary>Multiply: a masked step of an input is 1; with every input masked, 0 where all are masked.</summary>
    private static string MultiplyMasked(B g, IReadOnlyList<string> xs, IReadOnlyList<string?> spread, bool allMasked)
    {
        string? output = null, outputMask = null;
        for (int i = 0; i < xs.Count; i++)
        {
            var x = xs[i];
            if (spread[i] is { } mask)
            {
                x = g.Node("Where", [mask, x, g.Scalar("one", 1)]);
                if (allMasked)
                    outputMask = outputMask is null ? mask : g.Node("Or", [outputMask, mask]);
            }
            output = output is null ? x : g.Node("Mul", [output, x]);
        }
        return outputMask is null ? output! : g.Node("Where", [outputMask, output!, g.Scalar("zero", 0)]);
    }

    /// <summary>Maximum / Minimum leaving masked steps out: a masked step takes the other operand's value (Keras 3's <c>_apply_merge_op_and_or_mask</c>).</summary>
    private static string FoldMasked(B g, string op, IReadOnlyList<string> xs, IReadOnlyList<string?> spread)
    {
        var output = xs[0];
        var outputMask = spread[0];
        for (int i = 1; i < xs.Count; i++)
        {
            var x = xs[i];
            var mask = spread[i];
            if (mask is not null)
                x = g.Node("Where", [mask, x, output]);
            if (outputMask is not null)
                output = g.Node("Where", [outputMask, output, x]);
            outputMask = mask is not null && outputMask is not null ? g.Node("Or", [outputMask, mask]) : null;
            output = g.Node(op, [output, x]);
        }
        return output;
    }

    /// <summary>Concatenate: <c>Concat</c> along the axis; the mask, when any input has one, each input's mask spread over its features (all true without one), joined and reduced over the last axis.</summary>
    private static Flow Concatenate(B g, Concatenate concatenate, IReadOnlyList<Flow> inputs, IReadOnlyList<int> ranks)
    {
        var y = g.Node("Concat", inputs.Select(f => f.X), B.Int("axis", concatenate.Axis));
        if (inputs.All(f => f.Mask is null))
            return new Flow(y, null);
        var spread = inputs.Select((f, i) =>
        {
            var shape = g.Node("Shape", [f.X]);
            var mask = f.Mask is null ? g.Float32s("one", [1], 1f) : g.Cast(Trailing(g, f.Mask, f.MaskRank, ranks[i]), B.FloatType);
            return g.Node("Expand", [mask, shape]);
        }).ToList();
        var joined = g.Node("Concat", spread, B.Int("axis", concatenate.Axis));
        return new Flow(y, g.Cast(g.Reduce("ReduceMax", joined, [-1], false), B.BoolType), ranks[0] - 1);
    }

    /// <summary>
    /// Dot: an <c>Einsum</c> over the two summed axes (Keras's <c>batch_dot</c>: the first input's
    /// other axes, then the second's), after L2-normalising both along them with <c>normalize</c>; an
    /// output of the batch axis only gets a second axis of size 1. Masks are not used (as in Keras).
    /// </summary>
    private static Flow Dot(B g, Dot dot, IReadOnlyList<Flow> inputs, IReadOnlyList<int> ranks)
    {
        int a = dot.Axes[0] < 0 ? dot.Axes[0] + ranks[0] : dot.Axes[0];
        int b = dot.Axes[1] < 0 ? dot.Axes[1] + ranks[1] : dot.Axes[1];
        var (x, y) = (inputs[0].X, inputs[1].X);
        if (dot.Normalize)
        {
            x = L2Normalize(g, x, a);
            y = L2Normalize(g, y, b);
        }
        // Letters: 'a' the batch, 'z' the summed axis, the others each its own.
        var xLetters = Enumerable.Range(0, ranks[0]).Select(k => k == 0 ? 'a' : k == a ? 'z' : (char)('b' + k - 1)).ToArray();
        var yLetters = Enumerable.Range(0, ranks[1]).Select(k => k == 0 ? 'a' : k == b ? 'z' : (char)('m' + k - 1)).ToArray();
        var output = xLetters.Where(c => c != 'z').Concat(yLetters.Skip(1).Where(c => c != 'z')).ToArray();
        var product = g.Node("Einsum", [x, y], B.String("equation", $"{new string(xLetters)},{new string(yLetters)}->{new string(output)}"));
        return new Flow(output.Length == 1 ? g.Node("Unsqueeze", [product, g.Int64s("axes", 1)]) : product, null);
    }

    /// <summary><c>x / sqrt(max(Σ x², 1e-14))</c> along <paramref name="axis"/>, as <c>Dot</c> normalises.</summary>
    private static string L2Normalize(B g, string x, long axis)
    {
        var squares = g.Reduce("ReduceSum", g.Node("Mul", [x, x]), [axis], true);
        return g.Node("Mul", [x, g.Node("Reciprocal", [g.Node("Sqrt", [g.Node("Max", [squares, g.Scalar("epsilon", 1e-14)])])])]);
    }
}
