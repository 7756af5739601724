using System.Collections;
using System.Globalization;
using System.Text.Json;
using SeqSharp.Initializers;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Typed, checked reading of a layer config (Keras <c>get_config()</c> keys) for
/// <see cref="Layer.FromConfig"/>. Values may be CLR values (what <c>GetConfig</c> returns) or
/// <see cref="JsonElement"/>s (what a JSON reader returns); numbers may be of any numeric type.
/// </summary>
internal sealed class LayerConfig
{
    private readonly IReadOnlyDictionary<string, object?> _values;

    public LayerConfig(string className, IReadOnlyDictionary<string, object?> values)
    {
        ClassName = className;
        _values = values;
    }

    public string ClassName { get; }

    /// <summary>The <c>name</c>, or null for an automatic one.</summary>
    public string? Name => OptionalString("name");

    /// <summary><c>trainable</c>, default true.</summary>
    public bool Trainable => Bool("trainable", true);

    /// <summary><c>dtype</c>: <c>"float32"</c>, <c>"float64"</c>, or Keras 3's policy <c>{"class_name": "DTypePolicy", "config": {"name": ...}}</c>.</summary>
    public ScalarType? DType
    {
        get
        {
            var value = Get("dtype");
            if (value is IReadOnlyDictionary<string, object?> policy && policy.TryGetValue("config", out var inner) && inner is IReadOnlyDictionary<string, object?> innerConfig)
                value = innerConfig.GetValueOrDefault("name");
            return value switch
            {
                null => null,
                "float32" => ScalarType.Float32,
                "float64" => ScalarType.Float64,
                _ => throw Invalid("dtype", "\"float32\" or \"float64\"", value),
            };
        }
    }

    /// <summary>The sample shape from <c>batch_input_shape</c> (or Keras 3's <c>batch_shape</c>), without the batch axis.</summary>
    /// <remarks>Unknown sizes (<c>None</c>, such as a variable time axis) are null.</remarks>
    public long?[]? InputShape => BatchShape is { } shape ? shape[1..] : null;

    /// <summary>The batch size fixed by <c>batch_input_shape</c> (or a separate <c>batch_size</c>), or null.</summary>
    public int? BatchSize => BatchShape is { Length: > 0 } shape && shape[0] is long b ? checked((int)b) : Has("batch_size") ? Int("batch_size") : null;

    private string? BatchShapeKey => Has("batch_input_shape") ? "batch_input_shape" : Has("batch_shape") ? "batch_shape" : null;

    private long?[]? BatchShape => BatchShapeKey is { } key ? NullableLongs(key) : null;

    public bool Has(string key) => _values.TryGetValue(key, out var value) && Normalize(value) is not null;

    public object? Get(string key) => _values.TryGetValue(key, out var value) ? Normalize(value) : null;

    public int Int(string key) => Get(key) is { } value ? ToInt(key, value) : throw Missing(key);

    public int Int(string key, int fallback) => Get(key) is { } value ? ToInt(key, value) : fallback;

    public long? OptionalLong(string key) => Get(key) is { } value ? ToLong(key, value) : null;

    public double Double(string key, double fallback) => Get(key) is { } value ? ToDouble(key, value) : fallback;

    public double Double(string key) => Get(key) is { } value ? ToDouble(key, value) : throw Missing(key);

    public bool Bool(string key, bool fallback) => Get(key) switch
    {
        null => fallback,
        bool b => b,
        var other => throw Invalid(key, "true or false", other),
    };

    public string String(string key) => OptionalString(key) ?? throw Missing(key);

    public string String(string key, string fallback) => OptionalString(key) ?? fallback;

    public string? OptionalString(string key) => Get(key) switch
    {
        null => null,
        string s => s,
        var other => throw Invalid(key, "a string", other),
    };

    /// <summary>An integer or a list of integers (Keras accepts <c>3</c> and <c>(3,)</c> for a 1D kernel size).</summary>
    public long[] Longs(string key) => Get(key) switch
    {
        null => throw Missing(key),
        IList list => list.Cast<object?>().Select(v => v is null ? throw Invalid(key, "integers", Get(key)) : ToLong(key, v)).ToArray(),
        var single => [ToLong(key, single)],
    };

    /// <summary>A 1D size given as an integer or a one-element list (Keras writes <c>kernel_size</c> as <c>[3]</c>).</summary>
    public int SingleInt(string key)
    {
        var values = Longs(key);
        return values.Length == 1 ? checked((int)values[0]) : throw Invalid(key, "one integer (1D)", Get(key));
    }

    /// <summary><see cref="SingleInt(string)"/> with a default for an absent or null key.</summary>
    public int SingleInt(string key, int fallback) => Has(key) ? SingleInt(key) : fallback;

    /// <summary>An axis given as an integer or, as Keras writes it after building, a one-element list.</summary>
    public int SingleAxis(string key, int fallback)
    {
        if (!Has(key))
            return fallback;
        var axes = Longs(key);
        return axes.Length == 1 ? checked((int)axes[0]) : throw Invalid(key, "a single axis", Get(key));
    }

    /// <summary>A list of integers or nulls (a noise shape, a batch shape), or null.</summary>
    public long?[]? NullableLongs(string key) => Get(key) switch
    {
        null => null,
        IList list => list.Cast<object?>().Select(v => v is null ? (long?)null : ToLong(key, v)).ToArray(),
        var other => throw Invalid(key, "a list of integers", other),
    };

    /// <summary>A nested layer, <c>{"class_name": ..., "config": {...}}</c>, rebuilt with <see cref="Layer.FromConfig"/>.</summary>
    public Layer? Layer(string key)
    {
        var value = Get(key);
        if (value is null)
            return null;
        if (value is not IReadOnlyDictionary<string, object?> nested
            || nested.GetValueOrDefault("class_name") is not string className
            || nested.GetValueOrDefault("config") is not IReadOnlyDictionary<string, object?> config)
            throw Invalid(key, "a serialized layer {\"class_name\": ..., \"config\": {...}}", value);
        return Layers.Layer.FromFileConfig(className, nested.ContainsKey("registered_name") ? nested["registered_name"] as string : className, config);
    }

    /// <summary>
    /// An initializer: Keras's serialized form <c>{"class_name": ..., "config": {...}}</c>, or a
    /// name such as <c>"glorot_uniform"</c>; null when absent.
    /// </summary>
    public Initializer? Initializer(string key)
    {
        var value = Get(key);
        switch (value)
        {
            case null:
                return null;
            case string name:
                return name == "uniform" ? new RandomUniform() : Initializers.Initializer.Get(name);
            case IReadOnlyDictionary<string, object?> serialized when serialized.GetValueOrDefault("class_name") is string className:
            {
                var config = new LayerConfig($"{ClassName}.{key}",
                    serialized.GetValueOrDefault("config") as IReadOnlyDictionary<string, object?> ?? new Dictionary<string, object?>());
                return className switch
                {
                    "GlorotUniform" => new GlorotUniform(),
                    "GlorotNormal" => new GlorotNormal(),
                    "HeUniform" => new HeUniform(),
                    "HeNormal" => new HeNormal(),
                    "LecunUniform" => new LecunUniform(),
                    "LecunNormal" => new LecunNormal(),
                    "Zeros" => new Zeros(),
                    "Ones" => new Ones(),
                    // Keras 3.0 to 3.4 named the class OrthogonalInitializer (their .keras files say so); later versions Orthogonal.
                    "Orthogonal" or "OrthogonalInitializer" => new Orthogonal(config.Double("gain", 1.0)),
                    "Constant" => new Constant(config.Double("value", 0.0)),
                    "RandomUniform" => new RandomUniform(config.Double("minval", -0.05), config.Double("maxval", 0.05)),
                    "RandomNormal" => new RandomNormal(config.Double("mean", 0.0), config.Double("stddev", 0.05)),
                    "VarianceScaling" => new VarianceScaling(config.Double("scale", 1.0), config.String("mode", "fan_in"),
                        config.String("distribution", "truncated_normal")),
                    _ => throw new ArgumentException(
                        $"Layer config for '{ClassName}' has an unknown initializer class '{className}' in '{key}'. Expected one of: " +
                        "Constant, GlorotNormal, GlorotUniform, HeNormal, HeUniform, LecunNormal, LecunUniform, Ones, Orthogonal, RandomNormal, RandomUniform, VarianceScaling, Zeros."),
                };
            }
            default:
                throw Invalid(key, "an initializer name or {\"class_name\": ..., \"config\": {...}}", value);
        }
    }

    /// <summary>SeqSharp's layers take sequences channels-last, <c>(batch, steps, channels)</c>; a config asking for channels-first is refused.</summary>
    public void RequireChannelsLast()
    {
        string format = String("data_format", "channels_last");
        if (format != "channels_last")
            throw new NotSupportedException(
                $"Layer config for '{ClassName}' has data_format '{format}', but SeqSharp's layers take channels-last input (batch, steps, channels). Expected: \"channels_last\".");
    }

    /// <summary>The config's keys.</summary>
    public IEnumerable<string> Keys => _values.Keys;

    /// <summary>A regularizer: Keras's serialized form <c>{"class_name": ..., "config": {...}}</c> or a name; null when absent.</summary>
    public Regularizers.Regularizer? Regularizer(string key) => Get(key) switch
    {
        null => null,
        string name => Regularizers.Regularizer.Get(name),
        IReadOnlyDictionary<string, object?> serialized when serialized.GetValueOrDefault("class_name") is string className =>
            Regularizers.Regularizer.FromConfig(className, serialized.GetValueOrDefault("config") as IReadOnlyDictionary<string, object?> ?? new Dictionary<string, object?>()),
        var other => throw Invalid(key, "a regularizer name or {\"class_name\": ..., \"config\": {...}}", other),
    };

    /// <summary>A constraint: Keras's serialized form or a name; null when absent.</summary>
    public Constraints.Constraint? Constraint(string key) => Get(key) switch
    {
        null => null,
        string name => Constraints.Constraint.Get(name),
        IReadOnlyDictionary<string, object?> serialized when serialized.GetValueOrDefault("class_name") is string className =>
            Constraints.Constraint.FromConfig(className, serialized.GetValueOrDefault("config") as IReadOnlyDictionary<string, object?> ?? new Dictionary<string, object?>()),
        var other => throw Invalid(key, "a constraint name or {\"class_name\": ..., \"config\": {...}}", other),
    };

    /// <summary>The element type implied by the config (for values compared by the round-trip tests).</summary>
    public static object? Normalize(object? value) => value switch
    {
        JsonElement json => FromJson(json),
        IReadOnlyDictionary<string, object?> dictionary => dictionary.ToDictionary(p => p.Key, p => Normalize(p.Value)),
        IDictionary dictionary => dictionary.Keys.Cast<object>().ToDictionary(k => Convert.ToString(k, CultureInfo.InvariantCulture)!, k => Normalize(dictionary[k])),
        string or null => value,
        IEnumerable list => list.Cast<object?>().Select(Normalize).ToList(),
        _ => value,
    };

    private static object? FromJson(JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => json.GetString(),
        JsonValueKind.Number => json.TryGetInt64(out long l) ? l : json.GetDouble(),
        JsonValueKind.Array => json.EnumerateArray().Select(FromJson).ToList(),
        _ => (IReadOnlyDictionary<string, object?>)json.EnumerateObject().ToDictionary(p => p.Name, p => FromJson(p.Value)),
    };

    private int ToInt(string key, object value)
    {
        long l = ToLong(key, value);
        return l is >= int.MinValue and <= int.MaxValue ? (int)l : throw Invalid(key, "a 32-bit integer", value);
    }

    private long ToLong(string key, object value) => value switch
    {
        int i => i,
        long l => l,
        short or byte or sbyte or ushort or uint => Convert.ToInt64(value, CultureInfo.InvariantCulture),
        double d when d == Math.Floor(d) && Math.Abs(d) < 9e15 => (long)d,
        float f when f == MathF.Floor(f) && Math.Abs(f) < 1e7f => (long)f,
        _ => throw Invalid(key, "an integer", value),
    };

    private double ToDouble(string key, object value) => value switch
    {
        double d => d,
        float f => f,
        int or long or short or byte => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        _ => throw Invalid(key, "a number", value),
    };

    private ArgumentException Missing(string key) =>
        new($"Layer config for '{ClassName}' has no '{key}', which is required.");

    private ArgumentException Invalid(string key, string expected, object? received) =>
        new($"Layer config for '{ClassName}' has an invalid '{key}': expected {expected}. Received: {Describe(received)}.");

    private static string Describe(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        IList list => "[" + string.Join(", ", list.Cast<object?>().Select(Describe)) + "]",
        IReadOnlyDictionary<string, object?> d => "{" + string.Join(", ", d.Select(p => $"\"{p.Key}\": {Describe(p.Value)}")) + "}",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
