using System.Collections;
using SeqSharp.Layers;
using SeqSharp.Losses;
using SeqSharp.Metrics;
using SeqSharp.Optimizers;
using static TorchSharp.torch;

namespace SeqSharp.Saving;

/// <summary>The compile settings of a model file.</summary>
/// <param name="Optimizer">The optimizer (never null).</param>
/// <param name="Loss">The loss, or null.</param>
/// <param name="Metrics">The metrics, in order.</param>
internal sealed record CompileSettings(Optimizer Optimizer, Loss? Loss, IReadOnlyList<Metric> Metrics)
{
    /// <summary>For a model with several outputs: one loss per output (Keras writes a list), or null.</summary>
    public IReadOnlyList<Loss?>? OutputLosses { get; init; }

    /// <summary>The outputs' loss weights (<c>loss_weights</c>), or null.</summary>
    public IReadOnlyList<double>? LossWeights { get; init; }

    /// <summary>The outputs' metrics (a list per output), or null.</summary>
    public IReadOnlyList<IReadOnlyList<object>?>? OutputMetrics { get; init; }
}

/// <summary>
/// Reads a Keras model config, Keras 3's (<c>config.json</c> of a <c>.keras</c> file) or Keras 2's
/// (the <c>model_config</c> attribute of a legacy <c>.h5</c> file), into an unbuilt-then-built
/// <see cref="Sequential"/> and its compile settings. Every problem is an
/// <see cref="InvalidDataException"/> that names the file, the layer and what was expected.
/// </summary>
/// <param name="source">The file, for messages.</param>
/// <param name="kerasVersion">
/// The Keras version that wrote the file (<c>keras_version</c>), or null when the file does not say.
/// Files of Keras 1 and 2 (and files without a version, which only old Keras wrote) mean Keras 2's
/// formulas: their <c>hard_sigmoid</c> is read as <c>hard_sigmoid_keras2</c>, and a GRU config
/// without <c>reset_after</c> (Keras 2.0-2.1) as <c>reset_after=false</c>.
/// </param>
internal sealed partial class KerasConfigReader(string source, string? kerasVersion = null)
{
    /// <summary>Whether the file was written by Keras 1 or 2, whose definitions differ from Keras 3's.</summary>
    public bool Keras2 { get; } = kerasVersion is null || kerasVersion.StartsWith("1.", StringComparison.Ordinal) || kerasVersion.StartsWith("2.", StringComparison.Ordinal);

    /// <summary>
    /// Options Keras layers have and SeqSharp does not implement, accepted only with the value that
    /// means "off"; <c>unroll</c> is refused too, since a model loaded without it would be saved without it.
    /// </summary>
    private static readonly (string Key, object? Off)[] Unsupported =
    [
        ("unroll", false), ("time_major", false), ("sparse", false), ("ragged", false), ("optional", false), ("lora_rank", null),
    ];

    /// <summary>
    /// The model the config declares, built with placeholder weights that take no memory
    /// (<see cref="DeclaredWeights"/>): its weights' shapes and element types, for checks against the
    /// weights file before anything is allocated. Dispose it after use.
    /// </summary>
    /// <exception cref="InvalidDataException">As for <see cref="Model"/>, and for weights no tensor can hold.</exception>
    public Model Declared(object? root) => DeclaredWeights.Build(() => AnyModel(root));

    /// <summary>Builds the model described by a <c>{"class_name": "Sequential", "config": ...}</c> object.</summary>
    public Sequential Model(object? root)
    {
        var top = Dictionary(root, "the model config");
        string className = top.GetValueOrDefault("class_name") as string ?? throw Invalid("the model config has no 'class_name'.");
        if (className != "Sequential")
            throw Invalid($"it holds a Keras {className} model, not a Sequential one: load it with Model.Load(path).");
        object? config = top.GetValueOrDefault("config");
        // Keras 2.0-2.2 wrote the layer list itself as the config.
        var layers = config is IList list ? list : Dictionary(config, "the model config's 'config'").GetValueOrDefault("layers") as IList
            ?? throw Invalid("the model config has no 'layers' list.");
        var settings = config as IReadOnlyDictionary<string, object?>;
        string? name = settings?.GetValueOrDefault("name") as string;
        var buildShape = Shape(settings?.GetValueOrDefault("build_input_shape"))
            ?? Shape((top.GetValueOrDefault("build_config") as IReadOnlyDictionary<string, object?>)?.GetValueOrDefault("input_shape"));

        var model = new Sequential(name);
        var entries = layers.Cast<object?>().Select((e, i) => Dictionary(e, $"layer entry {i}")).ToList();
        for (int i = 0; i < entries.Count; i++)
        {
            var layerConfig = entries[i].GetValueOrDefault("config") as IReadOnlyDictionary<string, object?>;
            string layerName = layerConfig?.GetValueOrDefault("name") as string ?? $"entry {i}";
            string? layerClass = entries[i].GetValueOrDefault("class_name") as string;
            // A Lambda layer's own function is refused by Lambda.FromConfig, with advice on supplying it in C#.
            object? scanned = layerClass == "Lambda" && layerConfig is not null
                ? layerConfig.Where(p => p.Key is not ("function" or "function_type")).ToDictionary(p => p.Key, p => p.Value)
                : entries[i];
            RefuseCode(scanned, $"layer '{layerName}' ({layerClass ?? "no class name"})");
        }
        for (int i = 0; i < entries.Count; i++)
        {
            var (layerClass, layerRegistered, layerConfig) = Entry(entries[i], i);
            if (layerClass == "InputLayer" && i + 1 < entries.Count && Entry(entries[i + 1], i + 1).Config is var declared
                && (declared.ContainsKey("input_shape") || declared.GetValueOrDefault("batch_input_shape") is not null))
            {
                // The InputLayer was made from the next layer's declared shape: by Keras 2 (which
                // keeps batch_input_shape on the layer), or by SeqSharp's writer (which marks the
                // layer with input_shape, as Keras 3 accepts). Fold it back into the layer.
                var (nextClass, nextRegistered, nextConfig) = Entry(entries[i + 1], i + 1);
                nextConfig["batch_input_shape"] = layerConfig.GetValueOrDefault("batch_shape") ?? layerConfig.GetValueOrDefault("batch_input_shape");
                nextConfig.Remove("input_shape");
                Add(model, nextClass, nextRegistered, nextConfig);
                i++;
                continue;
            }
            if (layerConfig.Remove("input_shape", out var inputShape) && inputShape is IList shape && !layerConfig.ContainsKey("batch_input_shape"))
                layerConfig["batch_input_shape"] = new List<object?> { null }.Concat(shape.Cast<object?>()).ToList();
            Add(model, layerClass, layerRegistered, layerConfig);
        }
        if (model.Layers.Count == 0)
            throw Invalid("the model has no layers.");
        if (!model.Built)
        {
            if (buildShape is null)
                throw Invalid("the model declares no input shape (no InputLayer, batch_input_shape or build_input_shape), so its weights cannot be created.");
            try
            {
                model.Build(buildShape);
            }
            catch (ArgumentException e)
            {
                throw Invalid($"the layers do not fit the input shape {ShapeText.Format(buildShape)}: {e.Message}", e);
            }
        }
        return model;
    }

    /// <summary>Reads Keras 3's <c>compile_config</c> or Keras 2's <c>training_config</c> (optimizer under <c>optimizer</c> or <c>optimizer_config</c>).</summary>
    public CompileSettings Compile(object? value, string what)
    {
        var config = Dictionary(value, what);
        RefuseCode(config, what);
        if (config.GetValueOrDefault("loss") is IList outputLosses)
            return OutputsCompile(config, outputLosses, what);
        foreach (var key in new[] { "loss_weights", "weighted_metrics" })
        {
            if (config.GetValueOrDefault(key) is { } set && !(set is IList { Count: 0 }))
                throw Invalid($"{what} sets '{key}', which SeqSharp does not support. Received: {ConfigActivator.Describe(set)}.");
        }
        // Keras rebuilds the model with compile(**config), whose optimizer defaults to "rmsprop" (Keras 3.3 files
        // of models compiled without an optimizer have none in their compile_config).
        var optimizerValue = config.GetValueOrDefault("optimizer") ?? config.GetValueOrDefault("optimizer_config") ?? "rmsprop";
        var optimizer = Guard($"the optimizer in {what}", () => optimizerValue switch
        {
            string optimizerName => Optimizers.Optimizer.Get(optimizerName),
            _ => Optimizers.Optimizer.FromConfig(ClassName(optimizerValue, "optimizer"), InnerConfig(optimizerValue, "optimizer")),
        });
        var lossValue = config.GetValueOrDefault("loss");
        var loss = lossValue is null ? null : Resolve(lossValue, $"the loss in {what}", "loss", AsLoss,
            name => LossRegistry.Names.Contains(name), Losses.Loss.Get,
            className => ConfigActivator.Classes<Loss>().ContainsKey(className), Losses.Loss.FromConfig);
        var metrics = new List<Metric>();
        if (config.GetValueOrDefault("metrics") is IList list)
        {
            // Keras 2 wrote one list per output; a single output's list may come nested.
            var items = list.Count == 1 && list[0] is IList inner ? inner : list;
            foreach (var item in items)
            {
                if (item is IList)
                    throw Invalid($"{what} has metrics for several outputs; SeqSharp models have one output.");
                metrics.Add(Resolve(item, $"a metric in {what}", "metric", AsMetric,
                    name => name.ToLowerInvariant() is "accuracy" or "acc" || MetricRegistry.Names.Contains(name), Metrics.Metric.Get,
                    className => ConfigActivator.Classes<Metric>().ContainsKey(className), Metrics.Metric.FromConfig));
            }
        }
        else if (config.GetValueOrDefault("metrics") is { } other)
        {
            throw Invalid($"{what} has 'metrics' of an unexpected kind: {ConfigActivator.Describe(other)}.");
        }
        return new CompileSettings(optimizer, loss, metrics);
    }

    /// <summary>The compile settings of a model with several outputs: lists of losses, loss weights and metric lists, one entry per output.</summary>
    private CompileSettings OutputsCompile(IReadOnlyDictionary<string, object?> config, IList losses, string what)
    {
        if (config.GetValueOrDefault("weighted_metrics") is { } weighted && !(weighted is IList { Count: 0 }))
            throw Invalid($"{what} sets 'weighted_metrics', which SeqSharp does not support. Received: {ConfigActivator.Describe(weighted)}.");
        // Keras rebuilds the model with compile(**config), whose optimizer defaults to "rmsprop" (Keras 3.3 files
        // of models compiled without an optimizer have none in their compile_config).
        var optimizerValue = config.GetValueOrDefault("optimizer") ?? config.GetValueOrDefault("optimizer_config") ?? "rmsprop";
        var optimizer = Guard($"the optimizer in {what}", () => optimizerValue switch
        {
            string optimizerName => Optimizers.Optimizer.Get(optimizerName),
            _ => Optimizers.Optimizer.FromConfig(ClassName(optimizerValue, "optimizer"), InnerConfig(optimizerValue, "optimizer")),
        });
        var outputLosses = losses.Cast<object?>().Select((l, k) => l is null ? null : Resolve(l, $"loss {k} in {what}", "loss", AsLoss,
            name => LossRegistry.Names.Contains(name), Losses.Loss.Get,
            className => ConfigActivator.Classes<Loss>().ContainsKey(className), Losses.Loss.FromConfig)).ToList();
        List<double>? weights = null;
        if (config.GetValueOrDefault("loss_weights") is IList w)
            weights = w.Cast<object?>().Select(v => v is long or double ? Convert.ToDouble(v) : throw Invalid($"{what} has a loss weight that is not a number: {ConfigActivator.Describe(v)}.")).ToList();
        else if (config.GetValueOrDefault("loss_weights") is { } other)
            throw Invalid($"{what} has 'loss_weights' of a kind SeqSharp does not read (expected a list): {ConfigActivator.Describe(other)}.");
        List<IReadOnlyList<object>?>? metrics = null;
        if (config.GetValueOrDefault("metrics") is IList perOutput)
        {
            metrics = perOutput.Cast<object?>().Select((m, k) => m is null ? null : (IReadOnlyList<object>?)((m as IList ?? throw Invalid($"{what} has metrics for output {k} that are not a list."))
                .Cast<object?>().Select(item => (object)Resolve(item, $"a metric of output {k} in {what}", "metric", AsMetric,
                    name => name.ToLowerInvariant() is "accuracy" or "acc" || MetricRegistry.Names.Contains(name), Metrics.Metric.Get,
                    className => ConfigActivator.Classes<Metric>().ContainsKey(className), Metrics.Metric.FromConfig)).ToList())).ToList();
        }
        return new CompileSettings(optimizer, null, []) { OutputLosses = outputLosses, LossWeights = weights, OutputMetrics = metrics };
    }

    /// <summary>
    /// A loss or metric as Keras writes it: a name (Keras 2), a serialized function
    /// <c>{"class_name": "function", "config": name}</c>, or a serialized object
    /// <c>{"class_name", "config", "registered_name"}</c>. As in Keras, a custom object of that name
    /// (the load's <c>customObjects</c>, then <see cref="CustomObjects"/>) comes first; then SeqSharp's
    /// own. A name found in neither is an <see cref="InvalidDataException"/> that says both ways out.
    /// </summary>
    private T Resolve<T>(object? value, string what, string kind, Func<string, object, string, IReadOnlyDictionary<string, object?>, T> fromCustom,
        Func<string, bool> knownName, Func<string, T> byName, Func<string, bool> knownClass, Func<string, IReadOnlyDictionary<string, object?>, T> byConfig)
    {
        string? name;
        string? registered;
        string? className = null;
        switch (value)
        {
            case string text:
                name = registered = text;
                break;
            case IReadOnlyDictionary<string, object?> d when d.GetValueOrDefault("class_name") is "__lambda__":
                throw Invalid($"{what} is a Python lambda (stored as bytecode), which SeqSharp cannot run and never runs from a file. " +
                    $"Load with compile: false and compile the model in C# (Loss.FromFunction / Metric.FromFunction make named {kind}s), or save from Keras with a named function and supply it through customObjects.");
            case IReadOnlyDictionary<string, object?> d when d.GetValueOrDefault("class_name") is "function" && d.GetValueOrDefault("config") is string function:
                name = function;
                registered = d.GetValueOrDefault("registered_name") is string r && r != "function" ? r : null;
                break;
            default:
                className = ClassName(value, kind);
                name = className;
                var d2 = (IReadOnlyDictionary<string, object?>)value!;
                // Keras 3 writes registered_name null for its own classes; Keras 2 writes none, and its
                // custom classes are looked up by class name.
                registered = d2.ContainsKey("registered_name") ? d2["registered_name"] as string : className;
                break;
        }
        if (CustomObjectScope.Find(registered, className is null ? name : null) is var (customName, custom))
        {
            // A supplied class is rebuilt from the file's config (Keras's cls.from_config); a name alone gives it an empty one.
            var customConfig = className is null ? new Dictionary<string, object?>() : InnerConfig(value, kind);
            return Guard(what, () => fromCustom(name, custom, customName, customConfig));
        }
        bool known = className is null ? knownName(name) : knownClass(className);
        if (!known)
        {
            string example = kind == "loss"
                ? $"Loss.FromFunction(\"{name}\", (yTrue, yPred) => ...)"
                : $"Metric.FromFunction(\"{name}\", (yTrue, yPred) => ...)";
            throw Invalid($"{what} names '{registered ?? name}', which is not a Keras {kind} SeqSharp has, and no custom object of that name was supplied. " +
                $"Either supply it: Sequential.Load(path, customObjects: new Dictionary<string, object> {{ [\"{registered ?? name}\"] = {example} }}) " +
                $"(or once per process: CustomObjects.Register(\"{registered ?? name}\", ...)), " +
                "or load without the file's compile settings: Sequential.Load(path, compile: false), then call Compile yourself.");
        }
        return Guard(what, () => className is null ? byName(name) : byConfig(className, InnerConfig(value, kind)));
    }

    /// <summary>A custom object used as a loss: a <see cref="Loss"/>, a function made into one, or a Loss subclass rebuilt from the file's config.</summary>
    private static Loss AsLoss(string name, object custom, string customName, IReadOnlyDictionary<string, object?> config) => custom switch
    {
        Loss loss => loss,
        Func<Tensor, Tensor, Tensor> function => Losses.Loss.FromFunction(name, function),
        Type type when typeof(Loss).IsAssignableFrom(type) => CustomClass.Create<Loss>(type, config, "Loss"),
        _ => throw new ArgumentException($"the custom object '{customName}' is {CustomObjects.Describe(custom)}; a loss must be a Loss, a Loss subclass's Type or a Func<Tensor, Tensor, Tensor>."),
    };

    /// <summary>
    /// A custom object used as a metric: a <see cref="Metric"/>, a Metric subclass rebuilt from the file's config,
    /// or a function or loss (object or type) averaged as Keras's MeanMetricWrapper does.
    /// </summary>
    private static Metric AsMetric(string name, object custom, string customName, IReadOnlyDictionary<string, object?> config) => custom switch
    {
        Metric metric => metric,
        Func<Tensor, Tensor, Tensor> function => Metrics.Metric.FromFunction(name, function),
        Loss loss => Metrics.Metric.FromFunction(name, loss.Compute),
        Type type when typeof(Metric).IsAssignableFrom(type) => CustomClass.Create<Metric>(type, config, "Metric"),
        Type type when typeof(Loss).IsAssignableFrom(type) => Metrics.Metric.FromFunction(name, CustomClass.Create<Loss>(type, config, "Loss").Compute),
        _ => throw new ArgumentException($"the custom object '{customName}' is {CustomObjects.Describe(custom)}; a metric must be a Metric, a Loss, the Type of either, or a Func<Tensor, Tensor, Tensor>."),
    };

    private void Add(Sequential model, string className, string? registered, Dictionary<string, object?> config)
    {
        string layerName = config.GetValueOrDefault("name") as string ?? "(unnamed)";
        var layer = CreateLayer(className, registered, config);
        try
        {
            model.Add(layer);
        }
        catch (ArgumentException e)
        {
            layer.Dispose();
            throw Invalid($"layer '{layerName}' of type {className} does not fit the model: {e.Message}", e);
        }
    }

    /// <summary>A layer from a file's entry, with Keras 2's semantics where the file is Keras 2's; refuses what SeqSharp cannot rebuild.</summary>
    private Layer CreateLayer(string className, string? registered, Dictionary<string, object?> config)
    {
        string layerName = config.GetValueOrDefault("name") as string ?? "(unnamed)";
        if (Keras2)
            ToKeras2Semantics(className, config);
        bool custom = CustomObjectScope.Find(registered) is not null;
        if (!custom && className is "CuDNNLSTM" or "CuDNNGRU")
            throw Invalid(
                $"layer '{layerName}' of type {className} is not supported: Keras 2's GPU-only layer stores its weights in cuDNN's layout. " +
                $"Build the model in code with {className[5..]}{(className == "CuDNNGRU" ? "(resetAfter: true)" : "")} and recurrentActivation \"sigmoid\", " +
                "and set the weights converted as Keras 2's _convert_rnn_weights does.");
        if (!custom && !Layer.IsBuiltIn(className, registered))
            throw Invalid($"layer '{layerName}' of type {className} is not supported: {Layer.UnknownLayerHelp(className, registered)}");
        foreach (var (key, off) in Unsupported)
        {
            if (config.TryGetValue(key, out var value) && value is not null && !Equals(value, off))
                throw Invalid($"layer '{layerName}': {className} option '{key}={ConfigActivator.Describe(value)}' is not supported.");
        }
        Layer layer;
        try
        {
            layer = Layer.FromFileConfig(className, registered, config);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw Invalid($"layer '{layerName}' of type {className} cannot be rebuilt: {e.Message}", e);
        }
        return layer;
    }

    /// <summary>
    /// Refuses Python code stored in a config: Keras 3 serializes a Python <c>lambda</c> (in a Lambda
    /// layer, or given as a loss, metric or activation) as <c>{"class_name": "__lambda__", "config":
    /// {"code": ...}}</c> with its marshalled bytecode, and Keras 2 as a Lambda layer with
    /// <c>"function_type": "lambda"</c> (or <c>"output_shape_type": "lambda"</c>). Keras itself refuses these
    /// unless <c>safe_mode=False</c>; SeqSharp never runs code from a file.
    /// </summary>
    private void RefuseCode(object? value, string owner)
    {
        if (HoldsBytecode(value))
            throw Invalid(
                $"{owner} holds a Python lambda serialized as bytecode. SeqSharp never runs code from a model file " +
                "(Keras refuses it too unless safe_mode=False): define the function in C# and rebuild that part of the model in code.");
    }

    private static bool HoldsBytecode(object? value) => value switch
    {
        IReadOnlyDictionary<string, object?> d => d.GetValueOrDefault("class_name") is "__lambda__"
            || d.GetValueOrDefault("function_type") is "lambda"
            || d.GetValueOrDefault("output_shape_type") is "lambda"
            || d.GetValueOrDefault("mask_type") is "lambda"
            || d.Values.Any(HoldsBytecode),
        IList list => list.Cast<object?>().Any(HoldsBytecode),
        _ => false,
    };

    /// <summary>
    /// Keras 2's meaning of a layer config, in SeqSharp's terms: <c>hard_sigmoid</c> was
    /// clip(0.2 x + 0.5, 0, 1) there (Keras 3 changed it to relu6(x + 3) / 6, and reads Keras 2 files
    /// with its own), and GRU configs of Keras 2.0-2.1 have no <c>reset_after</c> (it was false).
    /// Wrapped layers (Bidirectional, TimeDistributed) are rewritten too.
    /// </summary>
    private static void ToKeras2Semantics(string className, Dictionary<string, object?> config)
    {
        foreach (var key in new[] { "activation", "recurrent_activation" })
        {
            if (config.GetValueOrDefault(key) is "hard_sigmoid")
                config[key] = Activations.ActivationRegistry.HardSigmoidKeras2;
        }
        if (className == "GRU" && !config.ContainsKey("reset_after"))
            config["reset_after"] = false;
        foreach (var key in new[] { "layer", "backward_layer" })
        {
            if (config.GetValueOrDefault(key) is IReadOnlyDictionary<string, object?> wrapped
                && wrapped.GetValueOrDefault("config") is IReadOnlyDictionary<string, object?> inner)
            {
                var copy = new Dictionary<string, object?>(inner, StringComparer.Ordinal);
                ToKeras2Semantics(wrapped.GetValueOrDefault("class_name") as string ?? "", copy);
                config[key] = new Dictionary<string, object?>(wrapped, StringComparer.Ordinal) { ["config"] = copy };
            }
        }
    }

    /// <summary>
    /// An entry's class, the name to look it up by among custom objects (Keras 3's
    /// <c>registered_name</c>, null for its own classes; Keras 2 writes none, so its class name), and its config.
    /// </summary>
    private (string ClassName, string? Registered, Dictionary<string, object?> Config) Entry(IReadOnlyDictionary<string, object?> entry, int index)
    {
        string className = entry.GetValueOrDefault("class_name") as string ?? throw Invalid($"layer entry {index} has no 'class_name'.");
        string? registered = entry.ContainsKey("registered_name") ? entry["registered_name"] as string : className;
        var config = Dictionary(entry.GetValueOrDefault("config"), $"the config of layer entry {index} ({className})");
        return (className, registered, new Dictionary<string, object?>(config, StringComparer.Ordinal));
    }

    private string ClassName(object? value, string what) =>
        (value as IReadOnlyDictionary<string, object?>)?.GetValueOrDefault("class_name") as string
        ?? throw new ArgumentException($"Expected a {what} name or a serialized {what} {{\"class_name\": ..., \"config\": {{...}}}}. Received: {ConfigActivator.Describe(value)}.");

    private static IReadOnlyDictionary<string, object?> InnerConfig(object? value, string what) =>
        (value as IReadOnlyDictionary<string, object?>)?.GetValueOrDefault("config") as IReadOnlyDictionary<string, object?>
        ?? new Dictionary<string, object?>();

    private T Guard<T>(string what, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw Invalid($"{what} cannot be rebuilt: {e.Message}", e);
        }
    }

    /// <summary>The sample shape of a batch shape <c>[null, 10, 1]</c>; null unless every size after the batch axis is a whole number.</summary>
    private static long[]? Shape(object? value) =>
        value is IList { Count: > 1 } list && list.Cast<object?>().Skip(1).All(d => d is long or (double and >= 1 and < 1e15) && Convert.ToDouble(d) % 1 == 0)
            ? list.Cast<object?>().Skip(1).Select(Convert.ToInt64).ToArray()
            : null;

    private IReadOnlyDictionary<string, object?> Dictionary(object? value, string what) =>
        value as IReadOnlyDictionary<string, object?> ?? throw Invalid($"{what} should be a JSON object; it is {ConfigActivator.Describe(value)}.");

    /// <summary>An <see cref="InvalidDataException"/> about the file.</summary>
    public InvalidDataException Invalid(string message, Exception? inner = null) => new($"'{source}': {message}", inner);
}
