using SeqSharp.Layers;
using TorchSharp.Modules;

namespace SeqSharp.Saving;

/// <summary>One <c>vars</c> group of a Keras 3 weights file: where it is, the <c>name</c> attribute, the variables in order.</summary>
/// <param name="Path">The group holding <c>vars</c>: <c>""</c> for the model, <c>layers/dense</c>, <c>layers/lstm/cell</c>, ...</param>
/// <param name="Name">The saved object's name (Keras writes it as the <c>name</c> attribute of <c>vars</c>).</param>
/// <param name="Owner">What the message of a mismatch names, e.g. <c>layer 'dense_3'</c>.</param>
/// <param name="Variables">The variables stored as <c>vars/0</c>, <c>vars/1</c>, ...</param>
internal sealed record VarsGroup(string Path, string Name, string Owner, IReadOnlyList<Parameter> Variables)
{
    /// <summary>The path of the <c>vars</c> group itself.</summary>
    public string VarsPath => Path.Length == 0 ? "vars" : Path + "/vars";
}

/// <summary>
/// Where Keras 3's <c>save_weights</c> puts each variable of a Sequential model: the model's own
/// (empty) <c>vars</c>, then <c>layers/&lt;key&gt;</c> for every layer except the InputLayer, where the key
/// is the layer's class name in snake case, numbered per class within the model (<c>dense</c>,
/// <c>dense_1</c>, ...; never the layer's own name, which differs between two builds of one model).
/// A recurrent layer keeps its weights in its cell: <c>layers/lstm/vars</c> is empty and
/// <c>layers/lstm/cell/vars</c> holds kernel, recurrent kernel, bias (and our peepholes as <c>3</c>).
/// MultiHeadAttention keeps its projections in sublayers: <c>layers/multi_head_attention/query_dense/vars</c>, ...
/// </summary>
internal static class WeightsLayout
{
    /// <summary>The groups of the model's layers (not the optimizer's), in file order.</summary>
    public static IReadOnlyList<VarsGroup> Of(Model model)
    {
        var groups = new List<VarsGroup> { new("", model.Name, $"model '{model.Name}'", []) };
        var used = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var layer in model.Layers)
        {
            if (layer is InputLayer)
                continue;
            string key = LayerNames.ToSnakeCase(layer.GetType().Name);
            if (used.TryGetValue(key, out int count))
            {
                used[key] = count + 1;
                key = $"{key}_{count + 1}";
            }
            else
            {
                used[key] = 0;
            }
            string path = "layers/" + key;
            if (layer is Bidirectional bidirectional)
            {
                // Keras 3 keeps a wrapper's layers under their attribute names, each RNN's weights in its cell.
                groups.Add(new VarsGroup(path, layer.Name, $"layer '{layer.Name}'", []));
                foreach (var (attribute, inner) in new[] { ("forward_layer", bidirectional.ForwardLayer), ("backward_layer", bidirectional.BackwardLayer) })
                {
                    groups.Add(new VarsGroup($"{path}/{attribute}", inner.Name, $"{attribute} of layer '{layer.Name}'", []));
                    groups.Add(new VarsGroup($"{path}/{attribute}/cell", inner.Cell.GetName(), $"{attribute} cell of layer '{layer.Name}'", inner.Cell.Weights));
                }
            }
            else if (layer is Rnn rnn)
            {
                groups.Add(new VarsGroup(path, layer.Name, $"layer '{layer.Name}'", []));
                groups.Add(new VarsGroup(path + "/cell", rnn.Cell.GetName(), $"cell of layer '{layer.Name}'", rnn.Cell.Weights));
            }
            else if (layer is MultiHeadAttention attention)
            {
                // Keras keeps the projections in EinsumDense sublayers: layers/multi_head_attention/query_dense/vars, ...
                groups.Add(new VarsGroup(path, layer.Name, $"layer '{layer.Name}'", []));
                foreach (var (attribute, name, variables) in attention.SavedSublayers())
                    groups.Add(new VarsGroup($"{path}/{attribute}", name, $"{name} projection of layer '{layer.Name}'", variables));
            }
            else
            {
                groups.Add(new VarsGroup(path, layer.Name, $"layer '{layer.Name}'", layer.Weights));
            }
        }
        return groups;
    }

    /// <summary>The optimizer's group: Keras keeps it at <c>optimizer/vars</c>.</summary>
    public const string OptimizerPath = "optimizer";
}
