using System.Collections;
using SeqSharp.Layers;
using static TorchSharp.torch;

namespace SeqSharp.Saving;

internal sealed partial class KerasConfigReader
{
    /// <summary>The model of a config: a <c>Sequential</c> one, or a functional one (<c>Functional</c>, Keras 2's <c>Model</c>).</summary>
    public Model AnyModel(object? root)
    {
        var top = Dictionary(root, "the model config");
        return top.GetValueOrDefault("class_name") is "Functional" or "Model" ? Functional(top) : Model(root);
    }

    /// <summary>
    /// Builds a functional model from Keras 3's config (inbound nodes as <c>args</c>/<c>kwargs</c> with
    /// <c>__keras_tensor__</c> references) or Keras 2's (nodes as lists of <c>[layer, node, tensor, kwargs]</c>).
    /// Calls run once their input tensors exist, so the file's layer order does not matter; a call
    /// whose inputs never appear (a cycle, a missing layer) is refused.
    /// </summary>
    private Model Functional(IReadOnlyDictionary<string, object?> top)
    {
        var config = Dictionary(top.GetValueOrDefault("config"), "the model config's 'config'");
        var entries = (config.GetValueOrDefault("layers") as IList ?? throw Invalid("the functional model config has no 'layers' list."))
            .Cast<object?>().Select((e, i) => Dictionary(e, $"layer entry {i}")).ToList();
        foreach (var (entry, i) in entries.Select((e, i) => (e, i)))
            RefuseCode(entry.GetValueOrDefault("class_name") is "Lambda" ? null : entry, $"layer entry {i}");

        var tensors = new Dictionary<(string Layer, long Node, long Tensor), KerasTensor>();
        var pending = new List<(Layer Layer, int Node, object? Data)>();
        var layers = new List<Layer>();
        try
        {
            for (int i = 0; i < entries.Count; i++)
            {
                var (className, registered, layerConfig) = Entry(entries[i], i);
                string name = entries[i].GetValueOrDefault("name") as string ?? layerConfig.GetValueOrDefault("name") as string
                    ?? throw Invalid($"layer entry {i} has no name.");
                if (className == "InputLayer")
                {
                    var shape = (layerConfig.GetValueOrDefault("batch_shape") ?? layerConfig.GetValueOrDefault("batch_input_shape")) as IList
                        ?? throw Invalid($"input layer '{name}' has no 'batch_shape'.");
                    var dtype = (layerConfig.GetValueOrDefault("dtype") as string) switch
                    {
                        "float64" => ScalarType.Float64,
                        "int32" => ScalarType.Int32,
                        "int64" => ScalarType.Int64,
                        _ => ScalarType.Float32,
                    };
                    var input = Guard($"input layer '{name}'", () => new Input(shape.Cast<object?>().Skip(1).Select(d => d is null ? (long?)null : Convert.ToInt64(d)).ToArray(), name, dtype));
                    tensors[(name, 0, 0)] = input;
                    layers.Add(input.InputLayer);
                    continue;
                }
                layerConfig.Remove("input_shape");
                layerConfig.Remove("batch_input_shape");
                layerConfig.Remove("batch_shape");
                var layer = CreateLayer(className, registered, layerConfig);
                layers.Add(layer);
                var nodes = entries[i].GetValueOrDefault("inbound_nodes") as IList ?? new List<object?>();
                for (int n = 0; n < nodes.Count; n++)
                    pending.Add((layer, n, nodes[n]));
            }
            // Run every call whose inputs exist, until none is left (or none can run).
            var byLayer = new Dictionary<Layer, int>();
            while (pending.Count > 0)
            {
                int before = pending.Count;
                for (int k = 0; k < pending.Count; k++)
                {
                    var (layer, index, data) = pending[k];
                    if (byLayer.GetValueOrDefault(layer) != index)
                        continue;
                    var call = ReadCall(data, layer.Name, index);
                    if (!call.Tensors.All(r => tensors.ContainsKey(r)))
                        continue;
                    var output = ApplyCall(layer, call, tensors);
                    foreach (var (t, j) in output.Outputs.Select((t, j) => (t, j)))
                        tensors[(layer.Name, index, j)] = t;
                    byLayer[layer] = index + 1;
                    pending.RemoveAt(k--);
                }
                if (pending.Count == before)
                {
                    var (layer, index, data) = pending[0];
                    var missing = ReadCall(data, layer.Name, index).Tensors.First(r => !tensors.ContainsKey(r));
                    throw Invalid($"call {index} of layer '{layer.Name}' needs tensor [{missing.Layer}, {missing.Node}, {missing.Tensor}], which no layer of the model makes " +
                        "(a missing layer, or a cycle in the graph).");
                }
            }
            KerasTensor Find(object? reference, string what)
            {
                var r = Reference(reference, what);
                return tensors.TryGetValue(r, out var t) ? t : throw Invalid($"{what} names tensor [{r.Layer}, {r.Node}, {r.Tensor}], which the model does not make.");
            }
            List<KerasTensor> References(string key)
            {
                var value = config.GetValueOrDefault(key) as IList ?? throw Invalid($"the functional model config has no '{key}'.");
                // One tensor is written [name, node, tensor]; several as a list of those.
                return value.Count > 0 && value[0] is string ? [Find(value, key)] : value.Cast<object?>().Select((v, i) => Find(v, $"{key}[{i}]")).ToList();
            }
            var inputs = References("input_layers");
            var outputs = References("output_layers");
            return Guard("the functional model", () => new Model(inputs, outputs, config.GetValueOrDefault("name") as string));
        }
        catch
        {
            foreach (var layer in layers)
                layer.Dispose();
            throw;
        }
    }

    private sealed record Call(List<(string Layer, long Node, long Tensor)> Main, List<(string Layer, long Node, long Tensor)> States,
        Dictionary<string, object?> Args, bool Positional)
    {
        public IEnumerable<(string Layer, long Node, long Tensor)> Tensors => Main.Concat(States);
    }

    /// <summary>One inbound node: its tensors (main ones, then initial states) and its other call arguments.</summary>
    private Call ReadCall(object? data, string layer, int index)
    {
        string what = $"call {index} of layer '{layer}'";
        var main = new List<(string, long, long)>();
        var states = new List<(string, long, long)>();
        var args = new Dictionary<string, object?>(StringComparer.Ordinal);
        bool positional = false;
        if (data is IReadOnlyDictionary<string, object?> node)
        {
            // Keras 3: {"args": [...], "kwargs": {...}}.
            var list = node.GetValueOrDefault("args") as IList ?? new List<object?>();
            if (list.Count == 1 && list[0] is IList several)
                main.AddRange(several.Cast<object?>().Select(t => TensorHistory(t, what)));
            else
            {
                positional = list.Count > 1;
                main.AddRange(list.Cast<object?>().Select(t => TensorHistory(t, what)));
            }
            foreach (var (key, value) in node.GetValueOrDefault("kwargs") as IReadOnlyDictionary<string, object?> ?? new Dictionary<string, object?>())
            {
                if (key == "initial_state" && value is IList initial)
                    states.AddRange(initial.Cast<object?>().Select(t => TensorHistory(t, what)));
                else if (key is "key" or "value" or "query" && value is IReadOnlyDictionary<string, object?>)
                {
                    main.Add(TensorHistory(value, what));
                    positional = true;
                }
                else if (key is not ("training" or "mask") && !(value is IReadOnlyDictionary<string, object?> d && d.GetValueOrDefault("class_name") is "__keras_tensor__"))
                {
                    args[key] = value;
                }
            }
        }
        else if (data is IList legacy)
        {
            // Keras 2: [[layer, node, tensor, kwargs], ...].
            foreach (var item in legacy.Cast<object?>())
            {
                var entry = item as IList ?? throw Invalid($"{what} has an inbound tensor of an unexpected kind: {ConfigActivator.Describe(item)}.");
                main.Add(Reference(entry, what));
                if (entry.Count > 3 && entry[3] is IReadOnlyDictionary<string, object?> kwargs)
                {
                    foreach (var (key, value) in kwargs)
                    {
                        if (key == "initial_state" && value is IList initial)
                            states.AddRange(initial.Count > 0 && initial[0] is string ? [Reference(initial, what)] : initial.Cast<object?>().Select(t => Reference(t, what)));
                        else if (key is not ("training" or "mask"))
                            args[key] = value;
                    }
                }
            }
        }
        else
        {
            throw Invalid($"{what} is of an unexpected kind: {ConfigActivator.Describe(data)}.");
        }
        return new Call(main, states, args, positional);
    }

    private KerasTensor ApplyCall(Layer layer, Call call, Dictionary<(string Layer, long Node, long Tensor), KerasTensor> tensors)
    {
        var main = call.Main.Select(r => tensors[r]).ToList();
        var states = call.States.Select(r => tensors[r]).ToList();
        try
        {
            return layer switch
            {
                MultiInputLayer multi => multi.Apply(main, call.Args),
                Rnn rnn when states.Count > 0 => rnn.Apply(main.Single(), states),
                // Keras 2 (RNN.__call__) lists an RNN's initial states as the node's extra inputs: [x, h(, c)].
                Rnn rnn when main.Count > 1 => rnn.Apply(main[0], main.Skip(1).ToList()),
                _ when main.Count == 1 => layer.Apply(main[0]),
                _ => throw new ArgumentException($"it takes one input; the file gives {main.Count}."),
            };
        }
        catch (ArgumentException e)
        {
            throw Invalid($"layer '{layer.Name}' cannot be applied as the file says: {e.Message}", e);
        }
    }

    private (string Layer, long Node, long Tensor) TensorHistory(object? value, string what)
    {
        var history = ((value as IReadOnlyDictionary<string, object?>)?.GetValueOrDefault("config") as IReadOnlyDictionary<string, object?>)?.GetValueOrDefault("keras_history");
        return Reference(history ?? value, what);
    }

    private (string Layer, long Node, long Tensor) Reference(object? value, string what) =>
        value is IList { Count: >= 3 } r && r[0] is string layer && WholeNumber(r[1]) is long node && WholeNumber(r[2]) is long tensor
            ? (layer, node, tensor)
            : throw Invalid($"{what} has a tensor reference of an unexpected kind (expected [layer, node, tensor]): {ConfigActivator.Describe(value)}.");

    private static long? WholeNumber(object? value) => value switch
    {
        long l => l,
        int i => i,
        double d when d % 1 == 0 && d >= 0 && d < 1e15 => (long)d,
        decimal m when m % 1 == 0 && m >= 0 => (long)m,
        _ => null,
    };
}
