using SeqSharp.Layers;
using SeqSharp.Losses;
using SeqSharp.Metrics;
using SeqSharp.Optimizers;

namespace SeqSharp.Saving;

/// <summary>
/// Writes a <see cref="Sequential"/> model as Keras 3's <c>config.json</c>: <c>serialize_keras_object(model)</c>
/// with the layers (an <c>InputLayer</c> first), the build shapes and the compile settings.
/// </summary>
/// <remarks>
/// <para>Every object is <c>{"module", "class_name", "config", "registered_name": null}</c>, the
/// layers' <c>dtype</c> is Keras 3's <c>DTypePolicy</c>, initializers and schedules are nested
/// objects of their modules. A first layer that declares its input shape is written as Keras 3
/// writes it, after an <c>InputLayer</c>; the layer also keeps an <c>input_shape</c> key (a
/// keyword Keras accepts with a warning), which tells SeqSharp's reader to fold the InputLayer back
/// into the layer, so that a model reloads with the same layers.</para>
/// <para>SeqSharp-only options are written only when they are on (<c>use_peepholes</c>), so that a
/// model without them is a plain Keras model; a model with them is SeqSharp-only (Keras refuses
/// unknown keyword arguments).</para>
/// </remarks>
internal static partial class KerasConfigWriter
{
    /// <summary>The Keras version whose layout the files follow (written to <c>metadata.json</c>).</summary>
    public const string KerasVersion = "3.8.0";

    /// <summary>The whole <c>config.json</c> object of a built model.</summary>
    /// <exception cref="NotSupportedException">A layer, loss, metric or optimizer that SeqSharp could not rebuild from the file (a user-defined class, a metric around a delegate).</exception>
    public static Dictionary<string, object?> Model(Sequential model)
    {
        var layers = model.AllLayers;
        var first = layers[0];
        var batchShape = new List<object?> { null };
        batchShape.AddRange(first.BuiltInputShape!.Cast<object?>());
        var entries = new List<object?>();
        bool folded = first is not InputLayer && first.InputShape is not null;
        if (first is InputLayer input)
            entries.Add(InputLayerEntry(input.Name, [null, .. input.InputShape!.Select(d => d == -1 ? null : (object?)d)], input.DType));
        else if (folded)
            entries.Add(InputLayerEntry(UnusedName(model, "input_layer"), DeclaredBatchShape(first), first.DType));
        foreach (var layer in layers.Where(l => l is not InputLayer))
            entries.Add(LayerEntry(layer, folded && layer == first));

        var result = new Dictionary<string, object?>
        {
            ["module"] = "keras",
            ["class_name"] = "Sequential",
            ["config"] = new Dictionary<string, object?>
            {
                ["name"] = model.Name,
                ["trainable"] = true,
                ["dtype"] = Policy(first.DType == TorchSharp.torch.ScalarType.Float64 ? "float64" : "float32"),
                ["layers"] = entries,
                ["build_input_shape"] = batchShape,
            },
            ["registered_name"] = null,
            ["build_config"] = new Dictionary<string, object?> { ["input_shape"] = batchShape },
        };
        if (model.Compiled)
            result["compile_config"] = CompileConfig(model);
        return result;
    }

    /// <summary>Keras's <c>{"module", "class_name", "config", "registered_name"}</c>.</summary>
    public static Dictionary<string, object?> Object(string module, string className, object? config) => new()
    {
        ["module"] = module,
        ["class_name"] = className,
        ["config"] = config,
        ["registered_name"] = null,
    };

    internal static Dictionary<string, object?> CompileConfig(Model model)
    {
        var optimizer = model.Optimizer!;
        Require(ConfigActivator.Classes<Optimizer>().ContainsKey(optimizer.ClassName), $"optimizer '{optimizer.Name}' of type {optimizer.GetType().Name}");
        return new Dictionary<string, object?>
        {
            ["optimizer"] = Object("keras.optimizers", optimizer.ClassName, Values(optimizer.GetConfig())),
            ["loss"] = model.Loss is MultiOutputLoss outputs ? outputs.Losses.Select(l => l is null ? null : Loss(l)).ToList()
                : model.Loss is null ? null : Loss(model.Loss),
            ["loss_weights"] = model.Loss is MultiOutputLoss weighted ? weighted.Weights.Cast<object?>().ToList() : null,
            ["metrics"] = model.Loss is MultiOutputLoss || model.Metrics.Any(m => m is OutputMetric)
                ? Enumerable.Range(0, model.Outputs.Count).Select(k => (object?)model.Metrics.OfType<OutputMetric>().Where(m => m.Output == k).Select(m => (object?)Metric(m.Inner)).ToList()).ToList()
                : model.Metrics.Count == 0 ? null : model.Metrics.Select(m => (object?)Metric(m)).ToList(),
            ["weighted_metrics"] = null,
            ["run_eagerly"] = false,
            ["steps_per_execution"] = 1,
            ["jit_compile"] = false,
        };
    }

    private static object Loss(Loss loss)
    {
        if (loss is FunctionLoss)
            return Lambda.SerializedFunction(loss.Name);
        if (CustomEntry(loss, loss.GetType(), loss.ClassName, loss.Name, loss.GetConfig(), "loss") is { } custom)
            return custom;
        Require(ConfigActivator.Classes<Loss>().ContainsKey(loss.ClassName), $"loss '{loss.Name}' of type {loss.GetType().Name}");
        return Object("keras.losses", loss.ClassName, Values(loss.GetConfig()));
    }

    private static object Metric(Metric metric)
    {
        // Keras has no class for "accuracy": it keeps the string and picks the accuracy at compile time, as AutoAccuracy does.
        if (metric is AutoAccuracy)
            return metric.Name;
        if (metric is MeanMetricWrapper { SavedByName: true })
            return Lambda.SerializedFunction(metric.Name);
        if (CustomEntry(metric, metric.GetType(), metric.ClassName, metric.Name, metric.GetConfig(), "metric") is { } custom)
            return custom;
        Require(ConfigActivator.Classes<Metric>().ContainsKey(metric.ClassName), $"metric '{metric.Name}' of type {metric.GetType().Name}");
        if (metric.GetType() == typeof(MeanMetricWrapper) && ((MeanMetricWrapper)metric).FunctionName is null)
            throw new NotSupportedException(
                $"Metric '{metric.Name}' wraps a C# delegate, which a model file cannot hold. Compile with a named metric, " +
                "or new MeanMetricWrapper(\"<Keras function name>\"), to save the model; SaveWeights saves the weights alone.");
        return Object("keras.metrics", metric.ClassName, Values(metric.GetConfig()));
    }

    /// <summary>
    /// A user-defined loss or metric (a class outside SeqSharp) as Keras writes a custom class:
    /// <c>"module"</c> its namespace, its class name, <c>GetConfig()</c>, and <c>"registered_name"</c> the name
    /// its type (or the object itself) is registered under in <see cref="CustomObjects"/>, else its class name.
    /// Loading rebuilds it with its config constructor, or takes the registered object. Null for SeqSharp's own classes.
    /// </summary>
    /// <exception cref="NotSupportedException">Neither a config constructor nor a registered object: a file could not rebuild it.</exception>
    private static Dictionary<string, object?>? CustomEntry(object value, Type type, string className, string name, Dictionary<string, object?> config, string family)
    {
        if (type.Assembly == typeof(Model).Assembly)
            return null;
        string? registered = CustomObjects.RegisteredName(type) ?? CustomObjects.RegisteredName(value);
        if (!CustomClass.HasConfigConstructor(type) && registered is null)
            throw new NotSupportedException(
                $"Cannot save the model: {family} '{name}' is of the user-defined type {type.FullName}, which has no config constructor, so a saved model could not rebuild it. " +
                $"{CustomClass.ConfigConstructorHelp(type, family)}, and register the type (CustomObjects.Register(\"{className}\", typeof({type.Name}))) or pass it in customObjects when loading; " +
                $"or register this {family} object itself (CustomObjects.Register(\"{name}\", {family})). SaveWeights saves the weights alone.");
        var entry = Object(type.Namespace ?? "", className, Values(config));
        entry["registered_name"] = registered ?? className;
        return entry;
    }

    internal static Dictionary<string, object?> InputLayerEntry(string name, List<object?> batchShape, TorchSharp.torch.ScalarType dtype) =>
        Object("keras.layers", "InputLayer", new Dictionary<string, object?>
        {
            ["batch_shape"] = batchShape,
            ["dtype"] = dtype == TorchSharp.torch.ScalarType.Float64 ? "float64" : "float32",
            ["sparse"] = false,
            ["name"] = name,
        });

    internal static Dictionary<string, object?> LayerEntry(Layer layer, bool foldedInput)
    {
        string? registered = CustomLayerName(layer);
        foreach (var wrapped in layer.WrappedLayers)
            CustomLayerName(wrapped);
        if (layer.WrappedLayers.Prepend(layer).OfType<Lambda>().FirstOrDefault(l => l.FunctionName is null) is { } lambda)
            throw new NotSupportedException(
                $"Cannot save the model: Lambda layer '{lambda.Name}' wraps an unnamed C# function, which a model file cannot hold. " +
                $"Name it, new Lambda(x => ..., functionName: \"my_function\"), and supply the function by that name when loading: " +
                "Sequential.Load(path, customObjects: new Dictionary<string, object> { [\"my_function\"] = (Func<Tensor, Tensor>)(x => ...) }) or CustomObjects.Register(\"my_function\", ...). " +
                "SaveWeights saves the weights alone.");
        var config = layer.GetConfig();
        config.Remove("batch_input_shape");
        if (foldedInput)
            config["input_shape"] = layer.InputShape!.Select(d => d == -1 ? null : (long?)d).ToList();
        if (config.TryGetValue("use_peepholes", out var peepholes) && Equals(peepholes, false))
            config.Remove("use_peepholes");
        var entry = Object(registered is null ? "keras.layers" : layer.GetType().Namespace ?? "", layer.ClassName, Values(config));
        entry["registered_name"] = registered;
        if (layer.Weights.Count > 0)
            entry["build_config"] = new Dictionary<string, object?> { ["input_shape"] = new List<object?> { null }.Concat(layer.BuiltInputShape!.Cast<object?>()).ToList() };
        return entry;
    }

    /// <summary>
    /// The <c>registered_name</c> of a user-defined layer (null for SeqSharp's): the name its type is
    /// registered under with <see cref="CustomObjects.Register"/>, else its class name, as Keras writes
    /// an unregistered custom class. The type must have the config constructor that loading calls.
    /// </summary>
    private static string? CustomLayerName(Layer layer)
    {
        var type = layer.GetType();
        if (type.Assembly == typeof(Layer).Assembly)
        {
            Require(LayerRegistry.Names.Contains(layer.ClassName), $"layer '{layer.Name}' of type {type.Name}");
            return null;
        }
        if (!type.GetConstructors().Any(c => c.GetParameters() is [var p] && p.ParameterType.IsAssignableFrom(typeof(Dictionary<string, object?>))))
            throw new NotSupportedException(
                $"Cannot save the model: layer '{layer.Name}' is of the user-defined type {type.FullName}, which has no config constructor, so a saved model could not rebuild it. " +
                $"Override GetConfig() to add the layer's own arguments, add `public {type.Name}(IReadOnlyDictionary<string, object?> config) : base(config)` that reads them, " +
                $"and register the type (CustomObjects.Register(\"{layer.ClassName}\", typeof({type.Name}))) or pass it in customObjects when loading. SaveWeights saves the weights alone.");
        return CustomObjects.RegisteredName(type) ?? layer.ClassName;
    }

    /// <summary>The batch shape a first layer declares: its batch size (stateful layers) or null, then its sample shape.</summary>
    private static List<object?> DeclaredBatchShape(Layer layer) =>
        layer.GetConfig().GetValueOrDefault("batch_input_shape") is long?[] declared
            ? declared.Select(d => (object?)d).ToList()
            : [null, .. layer.InputShape!.Select(d => d == -1 ? null : (object?)d)];

    /// <summary>A config's values in Keras 3's form: nested objects get their module, <c>dtype</c> strings become policies.</summary>
    private static Dictionary<string, object?> Values(IReadOnlyDictionary<string, object?> config)
    {
        var result = new Dictionary<string, object?>(config.Count);
        foreach (var (key, value) in config)
            result[key] = Value(key, value);
        return result;
    }

    private static object? Value(string key, object? value)
    {
        if (key == "dtype" && value is string dtype)
            return Policy(dtype);
        if (value is IReadOnlyDictionary<string, object?> nested && nested.ContainsKey("class_name") && nested.ContainsKey("config") && !nested.ContainsKey("module"))
        {
            var inner = nested["config"] is IReadOnlyDictionary<string, object?> innerConfig ? Values(innerConfig) : nested["config"];
            var serialized = Object(ModuleOf(key), (string)nested["class_name"]!, inner);
            if (nested.GetValueOrDefault("registered_name") is string registered)
                serialized["registered_name"] = registered;
            return serialized;
        }
        return value;
    }

    private static string ModuleOf(string key) =>
        key.EndsWith("_initializer", StringComparison.Ordinal) ? "keras.initializers"
        : key.EndsWith("_regularizer", StringComparison.Ordinal) ? "keras.regularizers"
        : key.EndsWith("_constraint", StringComparison.Ordinal) ? "keras.constraints"
        : key == "learning_rate" ? "keras.optimizers.schedules"
        : key.EndsWith("layer", StringComparison.Ordinal) ? "keras.layers"
        : "keras";

    internal static Dictionary<string, object?> Policy(string name) =>
        Object("keras", "DTypePolicy", new Dictionary<string, object?> { ["name"] = name });

    private static string UnusedName(Model model, string name)
    {
        string candidate = name;
        for (int i = 1; model.AllLayers.Any(l => l.Name == candidate); i++)
            candidate = $"{name}_{i}";
        return candidate;
    }

    private static void Require(bool known, string what)
    {
        if (!known)
            throw new NotSupportedException(
                $"Cannot save the model: its {what} is not a SeqSharp class, so a saved model could not be rebuilt from the file. SaveWeights saves the weights alone.");
    }
}
