using SeqSharp.Layers;
using SeqSharp.Losses;
using SeqSharp.Metrics;
using static TorchSharp.torch;

namespace SeqSharp;

/// <summary>
/// The process-wide registry of user-defined objects that model files name (Keras
/// <c>keras.saving.register_keras_serializable</c> and <c>get_custom_objects()</c>): losses, metrics,
/// loss or metric functions, <see cref="Lambda"/> functions and <see cref="Layer"/> subclasses.
/// <see cref="Sequential.Load"/> looks a name up in its <c>customObjects</c> argument first, then here.
/// </summary>
/// <remarks>
/// <para>A value may be a <see cref="Loss"/> (e.g. from <see cref="Loss.FromFunction"/>), a
/// <see cref="Metric"/>, a <c>Func&lt;Tensor, Tensor, Tensor&gt;</c> (a loss or metric function of
/// <c>(y_true, y_pred)</c> returning per-sample values), a <c>Func&lt;Tensor, Tensor&gt;</c> (a
/// <see cref="Lambda"/> function), or the <see cref="Type"/> of a <see cref="Layer"/>, <see cref="Loss"/> or
/// <see cref="Metric"/> subclass that has a public config constructor
/// <c>(IReadOnlyDictionary&lt;string, object?&gt; config)</c> (Keras's <c>from_config</c>; its <c>GetConfig</c>
/// writes what the constructor reads).</para>
/// <para>Names are matched exactly (case-sensitive, as in Keras). A file written by Keras may name a
/// registered object <c>"package&gt;name"</c>; such a name also matches an object registered as
/// <c>"name"</c>. Registering a name again replaces the value. The registry is safe to use from many
/// threads.</para>
/// <para>A registered type (or loss or metric object) is also how <see cref="Model.Save"/> names it in
/// the file: its <c>registered_name</c> is the name it was registered under.</para>
/// </remarks>
/// <example>
/// <code>
/// CustomObjects.Register("RMSE", Loss.FromFunction("RMSE", (t, p) => sqrt(mean(square(p - t), [-1L]))));
/// CustomObjects.Register("times400", (Func&lt;Tensor, Tensor&gt;)(x => x * 400));
/// CustomObjects.Register("Scale", typeof(Scale));
/// var model = Sequential.Load("model.keras");   // finds all three by name
/// </code>
/// </example>
public static class CustomObjects
{
    private static readonly Dictionary<string, object> Objects = new(StringComparer.Ordinal);
    private static readonly Lock Gate = new();

    /// <summary>What a custom object may be, for messages.</summary>
    internal const string Kinds =
        "a Loss, a Metric, a Func<Tensor, Tensor, Tensor> (loss or metric function), a Func<Tensor, Tensor> (Lambda function), or the Type of a Layer, Loss or Metric subclass";

    /// <summary>Registers <paramref name="value"/> under <paramref name="name"/> for every later load in this process.</summary>
    /// <param name="name">The name the model file uses (Keras's class or function name, or <c>"package&gt;name"</c>).</param>
    /// <param name="value">A loss, metric, function or layer type (see <see cref="CustomObjects"/>).</param>
    /// <exception cref="ArgumentException">An empty name, or a value of another kind (the message lists the accepted kinds).</exception>
    public static void Register(string name, object value)
    {
        Validate(name, value, nameof(value));
        lock (Gate)
            Objects[name] = value;
    }

    /// <summary>Removes a registration.</summary>
    /// <param name="name">The registered name.</param>
    /// <returns>Whether the name was registered.</returns>
    public static bool Unregister(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (Gate)
            return Objects.Remove(name);
    }

    /// <summary>A copy of the registry: name to value.</summary>
    public static IReadOnlyDictionary<string, object> Registered
    {
        get
        {
            lock (Gate)
                return new Dictionary<string, object>(Objects, StringComparer.Ordinal);
        }
    }

    /// <summary>The name a layer, loss or metric type (or a loss or metric object) was registered under, or null.</summary>
    internal static string? RegisteredName(object typeOrObject)
    {
        lock (Gate)
            return Objects.FirstOrDefault(p => ReferenceEquals(p.Value, typeOrObject) || Equals(p.Value, typeOrObject)).Key;
    }

    /// <summary>Checks a name and a value; <paramref name="parameter"/> is named in the exception.</summary>
    /// <exception cref="ArgumentException">An empty name, or a value of another kind.</exception>
    internal static void Validate(string name, object? value, string parameter)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException($"Expected a non-empty custom object name. Received: name={(name is null ? "null" : $"\"{name}\"")}.", nameof(name));
        bool accepted = value switch
        {
            Loss or Metric or Func<Tensor, Tensor, Tensor> or Func<Tensor, Tensor> => true,
            Type type => !type.IsAbstract && (typeof(Layer).IsAssignableFrom(type) || typeof(Loss).IsAssignableFrom(type) || typeof(Metric).IsAssignableFrom(type)),
            _ => false,
        };
        if (!accepted)
            throw new ArgumentException(
                $"Custom object '{name}' must be {Kinds}. Received: {Describe(value)}.", parameter);
        // A loss or metric class is only ever rebuilt from a file's config: without a config constructor it is of no use.
        if (value is Type lossOrMetric && !typeof(Layer).IsAssignableFrom(lossOrMetric) && !Saving.CustomClass.HasConfigConstructor(lossOrMetric))
        {
            string family = typeof(Loss).IsAssignableFrom(lossOrMetric) ? "loss" : "metric";
            throw new ArgumentException(
                $"Custom object '{name}' is the {family} type {lossOrMetric.FullName}, which has no config constructor, so a model file could not rebuild it. " +
                $"{Saving.CustomClass.ConfigConstructorHelp(lossOrMetric, family)}; or register an instance instead of the type.", parameter);
        }
    }

    /// <summary>A value's kind, for messages.</summary>
    internal static string Describe(object? value) => value switch
    {
        null => "null",
        Type type => $"the type {type.FullName}",
        Loss loss => $"the loss '{loss.Name}'",
        Metric metric => $"the metric '{metric.Name}'",
        Func<Tensor, Tensor, Tensor> => "a Func<Tensor, Tensor, Tensor>",
        Func<Tensor, Tensor> => "a Func<Tensor, Tensor>",
        _ => $"a {value.GetType().Name}",
    };
}
