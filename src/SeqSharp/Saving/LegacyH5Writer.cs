using PureHDF;
using SeqSharp.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Saving;

/// <summary>
/// Keras 3's legacy full-model <c>.h5</c> (<c>legacy_h5_format.save_model_to_hdf5</c>, what
/// <c>model.save("x.h5")</c> writes): root attributes <c>keras_version</c>, <c>backend</c>,
/// <c>model_config</c> and, when compiled, <c>training_config</c> (JSON text); the group
/// <c>model_weights</c> with attributes <c>layer_names</c>, <c>backend</c>, <c>keras_version</c>, one
/// group per layer whose attribute <c>weight_names</c> lists the layer's weights in order
/// (<c>sequential/lstm/lstm_cell/kernel</c>, ...) and holds each at that path, and Keras 3's empty
/// <c>top_level_model_weights</c>. Strings are variable-length UTF-8, as h5py writes Python strings.
/// A functional model's <c>model_config</c> is <c>{"class_name": "Functional", "config": ...}</c> with each
/// layer (input layers included) as <c>{"class_name", "config", "name", "inbound_nodes"}</c>, its nodes in
/// Keras 3's <c>args</c>/<c>kwargs</c> form, then <c>input_layers</c> and <c>output_layers</c>, as
/// <c>Functional.get_config()</c> writes them under Keras's legacy-config option.
/// </summary>
/// <remarks>
/// Keras reads the weights by position (<c>load_weights_from_hdf5_group</c>), so the names only
/// need to be unique within a layer; they follow Keras 3's variable paths where SeqSharp knows them.
/// The optimizer's state is not written (Keras 3's <c>optimizer_weights</c> group): Keras loads such a
/// file with a fresh optimizer state, as SeqSharp reads Keras's own.
/// </remarks>
internal static class LegacyH5Writer
{
    /// <summary>The <c>backend</c> attribute: Keras 2's loader converts convolution kernels of other backends, and SeqSharp's layout is TensorFlow's.</summary>
    private const string Backend = "tensorflow";

    /// <summary>The file of a built model, in memory.</summary>
    /// <exception cref="NotSupportedException">A layer, loss, metric or optimizer that a file cannot describe.</exception>
    public static H5File Build(Model model)
    {
        bool sequential = model is Sequential;
        var keras = model is Sequential s ? KerasConfigWriter.Model(s) : KerasConfigWriter.Functional(model);
        var modelConfig = new Dictionary<string, object?>
        {
            ["class_name"] = keras["class_name"],
            ["config"] = LegacyEntries(keras["config"], sequential),
        };
        var attributes = new Dictionary<string, object>
        {
            ["keras_version"] = KerasConfigWriter.KerasVersion,
            ["backend"] = Backend,
            ["model_config"] = KerasJson.Write(modelConfig),
        };
        if (keras.GetValueOrDefault("compile_config") is Dictionary<string, object?> compile)
        {
            // Keras 3 moves the optimizer out of the compile config into 'optimizer_config' {class_name, config}.
            var training = new Dictionary<string, object?>(compile);
            var optimizer = (Dictionary<string, object?>)training["optimizer"]!;
            training.Remove("optimizer");
            training["optimizer_config"] = new Dictionary<string, object?> { ["class_name"] = optimizer["class_name"], ["config"] = optimizer["config"] };
            attributes["training_config"] = KerasJson.Write(training);
        }

        // Keras 3 lists a functional model's input layers too (its model.layers), each with no weights.
        var layers = sequential ? model.Layers : model.AllLayers;
        var weights = new H5Group
        {
            Attributes = new()
            {
                ["layer_names"] = layers.Select(l => l.Name).ToArray(),
                ["backend"] = Backend,
                ["keras_version"] = KerasConfigWriter.KerasVersion,
            },
        };
        foreach (var layer in layers)
        {
            // Keras 3 names a variable by the scopes it was built in: a Sequential's layers inside the
            // model's scope ("sequential/dense/kernel"), a functional model's before the model existed ("dense/kernel").
            var names = WeightNames(sequential ? model.Name + "/" : "", layer);
            var group = new H5Group { Attributes = new() { ["weight_names"] = names.Count == 0 ? Array.Empty<double>() : names.ToArray() } };
            for (int i = 0; i < names.Count; i++)
            {
                int slash = names[i].LastIndexOf('/');
                WeightsWriter.Parent(group, slash < 0 ? "" : names[i][..slash])[names[i][(slash + 1)..]] = WeightsWriter.ToDataset(layer.Weights[i]);
            }
            weights[layer.Name] = group;
        }
        weights["top_level_model_weights"] = new H5Group { Attributes = new() { ["weight_names"] = Array.Empty<double>() } };

        return new H5File { Attributes = attributes, ["model_weights"] = weights };
    }

    /// <summary>
    /// Keras 3's legacy serialization of the layers: <c>{"class_name", "config"}</c> only, and in a
    /// functional model also the layer's <c>name</c> and <c>inbound_nodes</c> (Keras's functional reader
    /// takes an entry without <c>module</c> as a legacy one).
    /// </summary>
    private static object? LegacyEntries(object? config, bool sequential)
    {
        var copy = new Dictionary<string, object?>((Dictionary<string, object?>)config!);
        copy["layers"] = ((List<object?>)copy["layers"]!).Cast<Dictionary<string, object?>>()
            .Select(e =>
            {
                var entry = new Dictionary<string, object?> { ["class_name"] = e["class_name"], ["config"] = e["config"] };
                if (!sequential)
                {
                    entry["name"] = e["name"];
                    entry["inbound_nodes"] = e["inbound_nodes"];
                }
                return (object?)entry;
            })
            .ToList();
        return copy;
    }

    /// <summary>
    /// Each weight's path, in the layer's weight order: <c>model/layer/name</c>, with a recurrent
    /// layer's cell as Keras names it (<c>sequential/lstm/lstm_cell/kernel</c>).
    /// </summary>
    private static List<string> WeightNames(string prefix, Layer layer)
    {
        var byParameter = new Dictionary<Parameter, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, parameter) in layer.named_parameters())
            byParameter.TryAdd(parameter, name);
        var names = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < layer.Weights.Count; i++)
        {
            string dotted = byParameter.GetValueOrDefault(layer.Weights[i]) ?? $"weight_{i}";
            var parts = dotted.Split('.').ToList();
            for (int p = 0; p < parts.Count; p++)
            {
                if (parts[p] == "cell" && layer is Rnn rnn)
                    parts[p] = rnn.Cell.GetName();
            }
            string name = $"{prefix}{layer.Name}/{string.Join('/', parts)}";
            names.Add(used.Add(name) ? name : $"{name}_{i}");
        }
        return names;
    }
}
