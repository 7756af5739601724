using SeqSharp.Layers;
using SeqSharp.Optimizers.Schedules;
using SeqSharp.Saving;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp;

public partial class Model
{
    /// <summary>
    /// Saves the weights, and the optimizer's state when the model is compiled, to an HDF5 file in
    /// Keras 3's <c>.weights.h5</c> layout (Keras <c>save_weights</c>), which Keras's
    /// <c>model.load_weights</c> reads for an equivalent Keras model.
    /// </summary>
    /// <remarks>
    /// <para>Layout: the model's (empty) <c>vars</c> group; <c>layers/&lt;key&gt;/vars/0</c>, <c>1</c>, ... for each
    /// layer except the InputLayer, with keys from the class name in snake case, numbered per class
    /// (<c>dense</c>, <c>dense_1</c>, ...); for recurrent layers an empty <c>layers/lstm/vars</c> and the
    /// weights in <c>layers/lstm/cell/vars</c> (peepholes, a SeqSharp extension, as <c>vars/3</c>); the
    /// optimizer at <c>optimizer/vars</c> in the order of <see cref="Optimizers.Optimizer.Variables"/>
    /// (iterations as int64, the learning rate as float32 as Keras stores it, then the per-variable
    /// state). Every <c>vars</c> group carries the owner's name as its <c>name</c> attribute.</para>
    /// <para>The file is written under a temporary name in the same folder and moved into place once
    /// complete, so a crash never leaves a half-written file where a good one was.</para>
    /// </remarks>
    /// <param name="path">The file to write (replaced if it exists); it must end in <c>.weights.h5</c>.</param>
    /// <exception cref="ArgumentException">The name does not end in <c>.weights.h5</c>.</exception>
    /// <exception cref="InvalidOperationException">The model is not built, so it has no weights.</exception>
    /// <exception cref="IOException">The file cannot be written (e.g. its folder does not exist).</exception>
    /// <example>
    /// <code>
    /// model.SaveWeights("run/best.weights.h5");
    /// other.LoadWeights("run/best.weights.h5");   // same architecture
    /// </code>
    /// </example>
    public void SaveWeights(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!path.EndsWith(".weights.h5", StringComparison.Ordinal))
            throw new ArgumentException($"The filename must end in `.weights.h5`. Received: filepath={path}", nameof(path));
        RequireBuiltWeights(nameof(SaveWeights));

        using var scope = torch.NewDisposeScope();
        WeightsWriter.Write(path, WeightsGroups());
        Training.ModelLog.Saved(Logger, Name, "weights", path);
    }

    /// <summary>
    /// Saves the whole model to a Keras 3 <c>.keras</c> file (Keras <c>model.save</c>): the
    /// architecture (every layer's config), the weights, the compile settings (optimizer, loss,
    /// metrics) and the optimizer's state, so that <see cref="Sequential.Load"/> or <see cref="Model.Load"/> gives back a model that predicts
    /// the same and whose <c>Fit</c> continues where this one stopped. Keras 3 reads the file too,
    /// unless the model uses a SeqSharp-only option (see <c>docs/formats.md</c>).
    /// </summary>
    /// <remarks>
    /// <para>The archive holds <c>metadata.json</c> (<c>keras_version</c>, <c>date_saved</c>),
    /// <c>config.json</c> (Keras's serialized Sequential: an InputLayer, then each layer as
    /// <c>{"module", "class_name", "config", "registered_name", "build_config"}</c>, and the
    /// <c>compile_config</c> when compiled) and <c>model.weights.h5</c> (the layout of
    /// <see cref="SaveWeights"/>).</para>
    /// <para>Not saved, as in Keras: the metrics' running totals (reset at every epoch), the states
    /// carried by stateful recurrent layers, callbacks, and random generators (TorchSharp's global
    /// one and the per-layer ones of layers with a <c>seed</c>).</para>
    /// <para>The archive is written under a temporary name in the same folder and moved into place
    /// once complete, so a crash or a full disk never leaves a half-written model where a good one was.</para>
    /// <para>A name ending in <c>.h5</c> or <c>.hdf5</c> writes Keras's legacy full-model HDF5 file instead,
    /// as Keras 3's <c>model.save("x.h5")</c> does, with Keras's warning that the format is legacy
    /// (to <see cref="LoggerFactory"/> when set, else to the standard error): <c>model_config</c>,
    /// <c>training_config</c> and <c>model_weights</c> as <c>legacy_h5_format</c> writes them, readable by
    /// Keras and h5py. It holds no optimizer state, so <c>Fit</c> after loading it starts a fresh one.</para>
    /// </remarks>
    /// <param name="path">The file to write (replaced if it exists): <c>.keras</c>, or <c>.h5</c> / <c>.hdf5</c> for the legacy format.</param>
    /// <exception cref="ArgumentException">The name ends in none of <c>.keras</c>, <c>.h5</c>, <c>.hdf5</c>, or in <c>.weights.h5</c> (use <see cref="SaveWeights"/>).</exception>
    /// <exception cref="InvalidOperationException">The model is not built, so it has no weights.</exception>
    /// <exception cref="NotSupportedException">
    /// A layer, loss, metric or optimizer that a file cannot describe (a class defined outside
    /// SeqSharp, a metric around a C# delegate); nothing is written.
    /// </exception>
    /// <exception cref="IOException">The file cannot be written (e.g. its folder does not exist); an existing file is unchanged.</exception>
    /// <example>
    /// <code>
    /// model.Save("run/model.keras");
    /// var again = Sequential.Load("run/model.keras");   // compiled, with the optimizer's state
    /// again.Fit(x, y, epochs: 20, initialEpoch: 10);
    /// </code>
    /// </example>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        bool legacy = path.EndsWith(".h5", StringComparison.Ordinal) || path.EndsWith(".hdf5", StringComparison.Ordinal);
        if (path.EndsWith(".weights.h5", StringComparison.Ordinal) || (!legacy && !path.EndsWith(".keras", StringComparison.Ordinal)))
            throw new ArgumentException(
                "Invalid filepath extension for saving. Please add a `.keras` extension for the native Keras format, " +
                $"or `.h5` for the legacy HDF5 format (use SaveWeights for `.weights.h5`). Received: filepath={path}",
                nameof(path));
        RequireBuiltWeights(nameof(Save));

        using var scope = torch.NewDisposeScope();
        if (legacy)
        {
            var file = LegacyH5Writer.Build(this);
            WarnLegacyH5();
            AtomicFile.Write(path, stream => file.Write(stream));
            return;
        }
        string config = KerasJson.Write((this is Sequential s ? KerasConfigWriter.Model(s) : KerasConfigWriter.Functional(this)));
        string metadata = KerasJson.Write(new Dictionary<string, object?>
        {
            ["keras_version"] = KerasConfigWriter.KerasVersion,
            ["date_saved"] = DateTime.Now.ToString("yyyy-MM-dd@HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
        });
        KerasArchive.Write(path, config, metadata, WeightsWriter.Build(WeightsGroups()));
        Training.ModelLog.Saved(Logger, Name, "model", path);
    }

    /// <summary>The <c>vars</c> groups of the weights file: the layers', then the optimizer's when compiled.</summary>
    private protected List<(string Path, string Name, IReadOnlyList<Tensor> Values)> WeightsGroups()
    {
        var groups = WeightsLayout.Of(this)
            .Select(g => (g.Path, g.Name, (IReadOnlyList<Tensor>)g.Variables.Cast<Tensor>().ToList()))
            .ToList();
        if (_optimizer is not null)
        {
            var state = _optimizer.Variables.ToList();
            if (_optimizer.Schedule is ConstantSchedule)
                state[1] = state[1].to_type(ScalarType.Float32);
            groups.Add((WeightsLayout.OptimizerPath, _optimizer.Name, state));
        }
        return groups;
    }

    /// <summary>
    /// Loads weights saved by <see cref="SaveWeights"/> or by Keras 3 (<c>.weights.h5</c>, or the
    /// weights inside a <c>.keras</c> file) into this model, which must have the same layers
    /// (Keras <c>load_weights</c>). Everything is read and checked before anything is written: on
    /// any error the model and its optimizer are unchanged.
    /// </summary>
    /// <remarks>
    /// <para>Layers are matched by position within their class, as Keras does (the first LSTM reads
    /// <c>layers/lstm</c>, the second <c>layers/lstm_1</c>), never by layer name; groups of the file that no
    /// layer of this model reads (say, a Dropout's empty group) are ignored, as in Keras.</para>
    /// <para>When the model is compiled and the file holds optimizer state, the state is restored,
    /// building the optimizer for the model's weights first if needed. As in Keras, optimizer state
    /// of another size (another kind of optimizer) is skipped with a warning on the standard error.
    /// A stored float32 learning rate that equals the current rate rounded to float32 keeps the
    /// current, more precise value.</para>
    /// <para>Keras 2's weights files (<c>save_weights("x.h5")</c>, or a legacy full-model <c>.h5</c>, whose
    /// <c>model_weights</c> group has the same layout) are read too, as Keras 3 reads them: the layers
    /// that have weights are matched by position with the file's <c>layer_names</c> that have weights,
    /// and each layer's datasets are those its <c>weight_names</c> attribute lists. Such files hold no
    /// optimizer state that SeqSharp restores.</para>
    /// </remarks>
    /// <param name="path">A <c>.weights.h5</c>, <c>.keras</c>, or Keras 2 <c>.h5</c> / <c>.hdf5</c> file.</param>
    /// <exception cref="ArgumentException">The name ends in none of <c>.weights.h5</c>, <c>.keras</c>, <c>.h5</c>, <c>.hdf5</c>.</exception>
    /// <exception cref="InvalidOperationException">The model is not built.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is empty, truncated, corrupt or not a Keras weights file, or a layer's variables are
    /// missing, of another number, or of another shape than this model's.
    /// </exception>
    public void LoadWeights(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!path.EndsWith(".h5", StringComparison.Ordinal) && !path.EndsWith(".hdf5", StringComparison.Ordinal) && !path.EndsWith(".keras", StringComparison.Ordinal))
            throw new ArgumentException(
                $"File format not supported: filepath={path}. SeqSharp loads Keras 3 `.weights.h5` files, the weights inside `.keras` files, and Keras 2 `.h5` weights or model files.", nameof(path));
        RequireBuiltWeights(nameof(LoadWeights));

        using var scope = torch.NewDisposeScope();
        using var reader = path.EndsWith(".keras", StringComparison.Ordinal)
            ? WeightsReader.OpenArchive(path, KerasArchive.WeightsLimit(UniqueLayers.SelectMany(l => l.Weights)), $"the weights of model '{Name}'")
            : WeightsReader.Open(path);
        // Keras 2's layout lists its layers in 'layer_names' (at the root of a weights file, in
        // 'model_weights' of a model file); Keras 3's has 'layers/<key>/vars' groups.
        if (reader.StringAttribute("", "layer_names") is not null)
            ApplyLegacyWeights(reader, "", byName: false);
        else if (reader.StringAttribute("model_weights", "layer_names") is not null)
            ApplyLegacyWeights(reader, "model_weights", byName: false);
        else
            ApplyWeights(reader);
        Training.ModelLog.Loaded(Logger, Name, "weights", path);
    }

    /// <summary>Reads and checks every layer variable and the optimizer state, then writes them all (or nothing on error).</summary>
    private protected void ApplyWeights(WeightsReader reader)
    {
        var assignments = MatchStored(reader).Select(m => (m.Target, Value: reader.Read(m.Stored))).ToList();
        var optimizerState = ReadOptimizerState(reader);

        // Everything is read and checked; SetVariables is itself all-or-nothing, and copies cannot fail.
        if (optimizerState is not null)
        {
            try
            {
                _optimizer!.SetVariables(optimizerState);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"'{reader.Source}': the optimizer state cannot be restored: {e.Message}", e);
            }
        }
        using (torch.no_grad())
        {
            foreach (var (target, value) in assignments)
                target.copy_(value);
        }
    }

    /// <summary>Each layer variable with its stored dataset, counts and shapes checked; nothing is read.</summary>
    private protected List<(Parameter Target, StoredVariable Stored)> MatchStored(WeightsReader reader)
    {
        var matches = new List<(Parameter Target, StoredVariable Stored)>();
        foreach (var group in WeightsLayout.Of(this))
        {
            var stored = reader.Vars(group.VarsPath) ?? [];
            if (stored.Count != group.Variables.Count)
                throw new InvalidDataException(
                    $"'{reader.Source}': {Capitalized(group.Owner)} expected {group.Variables.Count} variables, but received {stored.Count} variables during loading " +
                    $"(group '{group.VarsPath}'). Expected shapes: [{string.Join(", ", group.Variables.Select(v => ShapeText.Format(v.shape)))}].");
            for (int i = 0; i < stored.Count; i++)
            {
                if (!stored[i].Shape.SequenceEqual(group.Variables[i].shape))
                    throw new InvalidDataException(
                        $"'{reader.Source}': '{stored[i].Path}' (variable {i} of {group.Owner}) has shape {ShapeText.Format(stored[i].Shape)}; " +
                        $"the model expects {ShapeText.Format(group.Variables[i].shape)}.");
                matches.Add((group.Variables[i], stored[i]));
            }
        }
        return matches;
    }

    /// <summary>The stored optimizer state, checked against this model's optimizer; null when there is none to restore.</summary>
    private protected List<Tensor>? ReadOptimizerState(WeightsReader reader)
    {
        if (_optimizer is null)
            return null;
        var stored = reader.Vars(WeightsLayout.OptimizerPath + "/vars") ?? [];
        if (!_optimizer.Built && stored.Count != _optimizer.Variables.Count)
            _optimizer.Build(UniqueLayers.SelectMany(l => l.TrainableWeights).ToList());
        var current = _optimizer.Variables;
        if (stored.Count != current.Count)
        {
            Training.ModelLog.OptimizerVariablesSkipped(Logger, _optimizer.Name, current.Count, stored.Count);
            return null;
        }
        for (int i = 0; i < stored.Count; i++)
        {
            if (!stored[i].Shape.SequenceEqual(current[i].shape))
                throw new InvalidDataException(
                    $"'{reader.Source}': '{stored[i].Path}' (variable {i} of optimizer '{_optimizer.Name}') has shape {ShapeText.Format(stored[i].Shape)}; " +
                    $"the optimizer expects {ShapeText.Format(current[i].shape)}.");
        }
        var values = stored.Select(reader.Read).ToList();
        if (_optimizer.Schedule is ConstantSchedule && values[1].dtype == ScalarType.Float32
            && (float)values[1].ToDouble() == (float)_optimizer.LearningRate)
        {
            values[1] = torch.tensor(_optimizer.LearningRate, ScalarType.Float64);
        }
        return values;
    }

    private protected void RequireBuiltWeights(string method)
    {
        if (!Built)
            throw new InvalidOperationException(
                $"Model '{Name}' is not built, so it has no weights for {method}(): give its first layer an inputShape, call Build(), or run it on data first.");
    }

    /// <summary>Keras 3's warning for <c>model.save("x.h5")</c>, in this library's terms.</summary>
    private protected void WarnLegacyH5()
    {
        const string message = "You are saving your model as an HDF5 file (a path ending in .h5 or .hdf5). " +
            "This file format is considered legacy, as in Keras 3. We recommend the native Keras format instead, " +
            "e.g. `model.Save(\"my_model.keras\")`; Keras reads both.";
        if (LoggerFactory is not null)
            Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(LoggerFactory.CreateLogger("SeqSharp.Saving"), message);
        else
            Console.Error.WriteLine("Warning: " + message);
    }

    private protected static string Capitalized(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
