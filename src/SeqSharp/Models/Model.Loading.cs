using SeqSharp.Layers;
using SeqSharp.Saving;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp;

public partial class Model
{
    /// <summary>
    /// Loads a whole model (Keras <c>keras.models.load_model</c>): a Keras 3 <c>.keras</c> file
    /// written by <see cref="Model.Save"/> or by Keras 3, or a legacy full-model <c>.h5</c> file written by
    /// Keras 2 (or by Keras 3's <c>model.save("x.h5")</c>). The model comes back built, with its
    /// weights, and, when the file holds compile settings and <paramref name="compile"/> is true,
    /// compiled with them and with the optimizer's state (from <c>.keras</c> files).
    /// </summary>
    /// <remarks>
    /// <para>Sequential models of the layers SeqSharp has (InputLayer, Dense, SimpleRNN, LSTM, GRU,
    /// Dropout, Activation, reshaping and normalization layers, ...) load; any other layer, and any
    /// option SeqSharp does not implement (<c>unroll=true</c>, regularizers, ...), is refused with a
    /// message naming the layer and the option. Everything is read and checked before the model is
    /// returned: a model is never half loaded.</para>
    /// <para>Building the layers draws no number from TorchSharp's global random generator (its state
    /// is restored), so a script that continues training in the same process after saving and loading
    /// shuffles and drops out exactly as an uninterrupted run would.</para>
    /// <para>The optimizer state of legacy <c>.h5</c> files (Keras 2's own variable order) is not
    /// restored: a warning says so and training starts with a fresh optimizer state.</para>
    /// <para>A legacy <c>.h5</c> file written by Keras 1 or 2 (its <c>keras_version</c>) is read with
    /// Keras 2's definitions, so the model predicts what it predicted there: its <c>hard_sigmoid</c> is
    /// clip(0.2x + 0.5, 0, 1) (<c>"hard_sigmoid_keras2"</c>; Keras 3's is x/6 + 0.5 clipped), and a GRU
    /// without <c>reset_after</c> has <c>resetAfter: false</c>. Strings may be of any kind h5py
    /// writes (fixed or variable length, ASCII or UTF-8).</para>
    /// </remarks>
    /// <param name="path">A <c>.keras</c> or <c>.h5</c> (<c>.hdf5</c>) file.</param>
    /// <param name="compile">
    /// Whether to compile the model with the file's settings (Keras's <c>compile=True</c>). With false
    /// the file's loss, metrics and optimizer are not read at all (nor the optimizer's state), so a
    /// file whose loss is a custom function loads without it; call <see cref="Model.Compile(Optimizers.Optimizer?, Losses.Loss?, IReadOnlyList{object}?)"/> yourself.
    /// </param>
    /// <param name="customObjects">
    /// Objects the file names that are not SeqSharp's (Keras's <c>custom_objects</c>): name to a
    /// <see cref="Losses.Loss"/>, a <see cref="Metrics.Metric"/>, a <c>Func&lt;Tensor, Tensor, Tensor&gt;</c>
    /// (a loss or metric function), a <c>Func&lt;Tensor, Tensor&gt;</c> (a <see cref="Lambda"/>
    /// function) or a <see cref="Layer"/> subclass's <see cref="Type"/>. Looked up before
    /// <see cref="CustomObjects"/> (the process-wide registry) and before SeqSharp's own names.
    /// </param>
    /// <returns>The model.</returns>
    /// <exception cref="ArgumentException">The name ends in none of <c>.keras</c>, <c>.h5</c>, <c>.hdf5</c>, or a custom object is of a kind SeqSharp cannot use.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is empty, truncated, corrupt or of another kind (a weights-only file, a zip without
    /// config.json, a Functional model), names a layer or option SeqSharp does not support, or holds
    /// weights of another number or shape than its layers need, or names a custom object (a loss,
    /// metric, Lambda function or layer) that neither <paramref name="customObjects"/> nor
    /// <see cref="CustomObjects"/> supplies; the message names it and says how to supply it (and, for
    /// compile settings, that <c>compile: false</c> skips them). A Lambda layer holding Python bytecode
    /// is refused: SeqSharp never runs code from a file. The message says what was expected and what
    /// was found.
    /// </exception>
    /// <example>
    /// <code>
    /// var model = Sequential.Load("stock.keras");
    /// Tensor y = model.Predict(x);
    /// // A file saved by Keras with custom_objects={"RMSE": RMSE} and a Lambda around times400:
    /// var custom = Sequential.Load("model.keras", customObjects: new Dictionary&lt;string, object&gt;
    /// {
    ///     ["RMSE"] = Loss.FromFunction("RMSE", (yTrue, yPred) => sqrt(mean(square(yPred - yTrue), [-1L]))),
    ///     ["times400"] = (Func&lt;Tensor, Tensor&gt;)(x => x * 400),
    /// });
    /// </code>
    /// </example>
    public static Model Load(string path, bool compile = true, IReadOnlyDictionary<string, object>? customObjects = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (customObjects is not null)
        {
            foreach (var (name, value) in customObjects)
                CustomObjects.Validate(name, value, nameof(customObjects));
        }
        bool keras = path.EndsWith(".keras", StringComparison.Ordinal);
        bool legacy = path.EndsWith(".h5", StringComparison.Ordinal) || path.EndsWith(".hdf5", StringComparison.Ordinal);
        if (!keras && !legacy)
            throw new ArgumentException(
                $"File format not supported: filepath={path}. SeqSharp loads Keras 3 `.keras` files and legacy H5 model files (`.h5` extension).", nameof(path));
        if (!File.Exists(path))
            throw new FileNotFoundException($"No model file at '{path}'.", path);
        if (path.EndsWith(".weights.h5", StringComparison.Ordinal))
            throw new InvalidDataException(
                $"'{path}' is a weights file: it holds no model config. Build the model in code and call LoadWeights(\"{path}\"), or load a .keras file.");

        // Building the layers draws initial weights that the file then replaces: give the global
        // generator its state back, so that loading does not change what training draws next.
        using var generatorState = torch.random.get_rng_state();
        using var scope = CustomObjectScope.Enter(customObjects);
        try
        {
            var model = keras ? LoadKeras(path, compile) : LoadLegacy(path, compile);
            Training.ModelLog.Loaded(model.Logger, model.Name, keras ? "Keras 3 model" : "legacy H5 model", path);
            return model;
        }
        finally
        {
            torch.random.set_rng_state(generatorState);
        }
    }

    private static Model LoadKeras(string path, bool compile)
    {
        using var archive = KerasArchive.Open(path);
        var root = KerasJson.Parse(archive.Config, $"'{path}' ({KerasArchive.ConfigEntry})");
        var config = new KerasConfigReader(path);

        // The model config.json declares, with placeholder weights: it caps what the weights entry may
        // expand to, and its shapes are checked against the stored ones before any weight is allocated.
        WeightsReader reader;
        using (var declared = config.Declared(root))
        {
            var weights = declared.UniqueLayers.SelectMany(l => l.Weights).ToList();
            long limit = KerasArchive.WeightsLimit(weights);
            string why = $"the weights of the model config.json declares ({weights.Count} variables, {weights.Sum(w => w.numel() * w.element_size()):N0} bytes; with optimizer state and HDF5 structures at most {limit:N0} bytes)";
            reader = WeightsReader.Open(archive.ReadWeights(limit, why), $"{path} ({WeightsReader.ArchiveEntry})");
            try
            {
                reader.CheckStorage(declared.MatchStored(reader).Select(m => m.Stored));
            }
            catch
            {
                reader.Dispose();
                throw;
            }
        }
        using (reader)
        {
            return Assemble(config, root, compile, (root as IReadOnlyDictionary<string, object?>)?.GetValueOrDefault("compile_config"), "compile_config",
                model => model.ApplyWeights(reader));
        }
    }

    private static Model LoadLegacy(string path, bool compile)
    {
        using var reader = WeightsReader.Open(path);
        var config = new KerasConfigReader(path, reader.StringAttribute("", "keras_version")?.SingleOrDefault());
        string modelConfig = reader.StringAttribute("", "model_config")?.SingleOrDefault()
            ?? throw config.Invalid("it holds no 'model_config' attribute, so it is not a Keras model file (a weights-only .h5 file needs LoadWeights on a model built in code).");
        var root = KerasJson.Parse(modelConfig, $"'{path}' (model_config)");
        var training = reader.StringAttribute("", "training_config")?.SingleOrDefault() is { } text ? KerasJson.Parse(text, $"'{path}' (training_config)") : null;
        // The declared shapes are checked against the stored ones before any weight is allocated.
        using (var declared = config.Declared(root))
            reader.CheckStorage(declared.MatchLegacyWeights(reader, "model_weights", byName: true).Select(m => m.Stored));
        return Assemble(config, root, compile, training, "training_config", model =>
        {
            model.ApplyLegacyWeights(reader, "model_weights", byName: true);
            if (model.Compiled && reader.StringAttribute("optimizer_weights", "weight_names") is not null)
                Training.ModelLog.LegacyOptimizerState(model.Logger, path);
        });
    }

    /// <summary>Builds, compiles and fills a model; disposes it if any step fails.</summary>
    private protected static Model Assemble(KerasConfigReader config, object? root, bool compile, object? compileConfig, string compileWhat, Action<Model> fill)
    {
        var model = config.AnyModel(root);
        try
        {
            if (compile && compileConfig is not null)
            {
                var settings = config.Compile(compileConfig, compileWhat);
                if (settings.OutputLosses is { } losses)
                {
                    try
                    {
                        model.Compile(settings.Optimizer, losses, settings.LossWeights, settings.OutputMetrics);
                    }
                    catch (ArgumentException e)
                    {
                        throw config.Invalid($"the compile settings do not fit the model: {e.Message}", e);
                    }
                }
                else
                {
                    model.Compile(settings.Optimizer, settings.Loss, settings.Metrics);
                }
            }
            using (torch.NewDisposeScope())
                fill(model);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Keras 2's layout (also Keras 3's legacy <c>.h5</c> and <c>save_weights("x.h5")</c>): the group
    /// <paramref name="root"/> (<c>model_weights</c> in a full-model file, the file's root in a weights
    /// file) has one group per layer, whose attribute <c>weight_names</c> lists its datasets (e.g.
    /// <c>lstm/lstm_cell/kernel:0</c>, paths inside the layer's group) in the layer's weight order.
    /// Layers are matched by name (<see cref="Load"/>, where the layers come from the file) or, as
    /// Keras's <c>load_weights</c> does, by position among the layers that have weights (the
    /// file's <c>layer_names</c> order). Everything is read and checked before anything is written.
    /// </summary>
    private protected void ApplyLegacyWeights(WeightsReader reader, string root, bool byName)
    {
        var assignments = MatchLegacyWeights(reader, root, byName).Select(m => (m.Target, Value: reader.Read(m.Stored))).ToList();
        using (torch.no_grad())
        {
            foreach (var (target, value) in assignments)
                target.copy_(value);
        }
    }

    /// <summary>Each layer weight with its stored dataset in Keras 2's layout (see <see cref="ApplyLegacyWeights"/>), shapes checked; nothing is read.</summary>
    private protected List<(TorchSharp.Modules.Parameter Target, StoredVariable Stored)> MatchLegacyWeights(WeightsReader reader, string root, bool byName)
    {
        string Invalid(string message) => $"'{reader.Source}': {message}";
        string Group(string layer) => root.Length == 0 ? layer : root + "/" + layer;
        var layers = UniqueLayers.Where(l => l.Weights.Count > 0).ToList();
        List<(Layer Layer, string Group, IReadOnlyList<string> Names)> pairs;
        if (byName)
        {
            pairs = layers.Select(l => (l, Group(l.Name), reader.StringAttribute(Group(l.Name), "weight_names")
                ?? throw new InvalidDataException(Invalid($"it has no weights for layer '{l.Name}' (expected the group '{Group(l.Name)}' with a 'weight_names' attribute).")))).ToList();
        }
        else
        {
            var saved = (reader.StringAttribute(root, "layer_names")
                    ?? throw new InvalidDataException(Invalid($"it has no 'layer_names' attribute{(root.Length == 0 ? "" : $" in '{root}'")}, so it is not a Keras weights file.")))
                .Select(name => (Name: name, Weights: reader.StringAttribute(Group(name), "weight_names") ?? []))
                .Where(s => s.Weights.Count > 0)
                .ToList();
            if (saved.Count != layers.Count)
                throw new InvalidDataException(Invalid(
                    $"Layer count mismatch when loading weights from file. Model expected {layers.Count} layers with weights ({string.Join(", ", layers.Select(l => l.Name))}), " +
                    $"found {saved.Count} saved layers ({string.Join(", ", saved.Select(s => s.Name))})."));
            pairs = layers.Zip(saved, (l, s) => (l, Group(s.Name), s.Weights)).ToList();
        }

        var matches = new List<(TorchSharp.Modules.Parameter Target, StoredVariable Stored)>();
        foreach (var (layer, group, names) in pairs)
        {
            if (names.Count != layer.Weights.Count)
                throw new InvalidDataException(Invalid(
                    $"layer '{layer.Name}' expects {layer.Weights.Count} weights ({string.Join(", ", layer.Weights.Select(w => ShapeText.Format(w.shape)))}), " +
                    $"but the file's '{group}' holds {names.Count}: {string.Join(", ", names)}."));
            for (int i = 0; i < names.Count; i++)
            {
                var stored = reader.Dataset(group + "/" + names[i])
                    ?? throw new InvalidDataException(Invalid($"'{group}/{names[i]}' (weight {i} of layer '{layer.Name}') is listed in 'weight_names' but missing."));
                if (!stored.Shape.SequenceEqual(layer.Weights[i].shape))
                    throw new InvalidDataException(Invalid(
                        $"'{stored.Path}' (weight {i} of layer '{layer.Name}') has shape {ShapeText.Format(stored.Shape)}; the layer expects {ShapeText.Format(layer.Weights[i].shape)}."));
                matches.Add((layer.Weights[i], stored));
            }
        }
        return matches;
    }
}
