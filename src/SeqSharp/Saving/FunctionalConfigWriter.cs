using SeqSharp.Layers;

namespace SeqSharp.Saving;

internal static partial class KerasConfigWriter
{
    /// <summary>
    /// The <c>config.json</c> object of a functional model, in Keras 3's form: each layer with its
    /// <c>inbound_nodes</c> (<c>args</c> and <c>kwargs</c> holding <c>__keras_tensor__</c> references
    /// <c>[layer, node, tensor]</c>), then <c>input_layers</c> and <c>output_layers</c>.
    /// </summary>
    public static Dictionary<string, object?> Functional(Model model)
    {
        var entries = new List<object?>();
        foreach (var layer in model.AllLayers)
        {
            Dictionary<string, object?> entry;
            if (layer is InputLayer input)
            {
                entry = InputLayerEntry(input.Name, BatchShape(input.InputShape!), TorchSharp.torch.ScalarType.Float32);
                ((Dictionary<string, object?>)entry["config"]!)["dtype"] = DTypeName(model.Inputs.First(i => i.Layer == layer).DType);
                entry["name"] = input.Name;
                entry["inbound_nodes"] = new List<object?>();
            }
            else
            {
                entry = LayerEntry(layer, foldedInput: false);
                var nodes = model.Nodes.Where(n => n.Layer == layer).ToList();
                if (layer.BuiltInputShape is { } built)
                    entry["build_config"] = new Dictionary<string, object?> { ["input_shape"] = BatchShape(nodes[0].Inputs[0].SampleShape) };
                entry["name"] = layer.Name;
                entry["inbound_nodes"] = nodes.Select(NodeEntry).ToList<object?>();
            }
            entries.Add(entry);
        }
        object? References(IReadOnlyList<KerasTensor> tensors) =>
            tensors.Count == 1 ? History(tensors[0]) : tensors.Select(History).ToList<object?>();
        var result = new Dictionary<string, object?>
        {
            ["module"] = "keras.src.models.functional",
            ["class_name"] = "Functional",
            ["config"] = new Dictionary<string, object?>
            {
                ["name"] = model.Name,
                ["trainable"] = true,
                ["layers"] = entries,
                ["input_layers"] = References(model.Inputs),
                ["output_layers"] = References(model.Outputs),
            },
            ["registered_name"] = "Functional",
            ["build_config"] = new Dictionary<string, object?> { ["input_shape"] = null },
        };
        if (model.Compiled)
            result["compile_config"] = CompileConfig(model);
        return result;
    }

    private static List<object?> BatchShape(long[] sampleShape) => [null, .. sampleShape.Select(d => d == -1 ? null : (object?)d)];

    private static string DTypeName(TorchSharp.torch.ScalarType dtype) => dtype switch
    {
        TorchSharp.torch.ScalarType.Float64 => "float64",
        TorchSharp.torch.ScalarType.Int64 => "int64",
        TorchSharp.torch.ScalarType.Int32 => "int32",
        _ => "float32",
    };

    private static List<object?> History(KerasTensor t) =>
        t.Node is null ? [t.Layer.Name, 0L, 0L] : [t.Node.Layer.Name, (long)t.Node.Index, (long)t.OutputIndex];

    private static Dictionary<string, object?> TensorReference(KerasTensor t) => new()
    {
        ["class_name"] = "__keras_tensor__",
        ["config"] = new Dictionary<string, object?>
        {
            ["shape"] = BatchShape(t.SampleShape),
            ["dtype"] = DTypeName(t.DType),
            ["keras_history"] = History(t),
        },
    };

    /// <summary>One call: Keras 3 writes the positional tensors in <c>args</c> (a merge layer's list as one argument) and the rest in <c>kwargs</c>.</summary>
    private static Dictionary<string, object?> NodeEntry(Node node)
    {
        var main = node.Inputs.Take(node.MainInputs).ToList();
        var kwargs = new Dictionary<string, object?>();
        foreach (var (key, value) in node.CallArgs)
        {
            if (value is not TorchSharp.torch.Tensor)
                kwargs[key] = value;
        }
        List<object?> args;
        if (node.Layer is MultiInputLayer multi && !multi.PositionalInputs)
            args = [main.Select(TensorReference).ToList<object?>()];
        else
            args = main.Select(TensorReference).ToList<object?>();
        if (node.Inputs.Count > node.MainInputs)
            kwargs["initial_state"] = node.Inputs.Skip(node.MainInputs).Select(TensorReference).ToList<object?>();
        if (node.Layer is not MultiInputLayer)
            kwargs.TryAdd("training", false);
        return new Dictionary<string, object?> { ["args"] = args, ["kwargs"] = kwargs };
    }
}
