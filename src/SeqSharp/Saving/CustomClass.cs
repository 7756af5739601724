using SeqSharp.Layers;

namespace SeqSharp.Saving;

/// <summary>
/// User-defined classes named in model files (Keras's custom classes, <c>cls.from_config(config)</c>):
/// <see cref="Losses.Loss"/> and <see cref="Metrics.Metric"/> subclasses rebuilt by their config
/// constructor, as user-defined layers are.
/// </summary>
internal static class CustomClass
{
    /// <summary>Whether <paramref name="type"/> has a public constructor taking the whole config.</summary>
    public static bool HasConfigConstructor(Type type) =>
        type.GetConstructors().Any(c => c.GetParameters() is [var p] && p.ParameterType.IsAssignableFrom(typeof(Dictionary<string, object?>)));

    /// <summary>What to add to a class so that a model file can rebuild it.</summary>
    public static string ConfigConstructorHelp(Type type, string family) =>
        $"Override GetConfig() to add the {family}'s own arguments (keeping the base class's 'name'), and add `public {type.Name}(IReadOnlyDictionary<string, object?> config)` that reads them";

    /// <summary>
    /// An object of the user-defined <paramref name="type"/> from its config: the constructor taking the
    /// config (numbers as <c>long</c> or <c>double</c>, lists as <c>List&lt;object?&gt;</c>, nested objects as
    /// dictionaries, as <c>GetConfig</c> gave them).
    /// </summary>
    /// <exception cref="ArgumentException">No config constructor, or the constructor failed (its message is kept).</exception>
    public static T Create<T>(Type type, IReadOnlyDictionary<string, object?> config, string family)
    {
        var constructor = type.GetConstructors().FirstOrDefault(c => c.GetParameters() is [var p] && p.ParameterType.IsAssignableFrom(typeof(Dictionary<string, object?>)))
            ?? throw new ArgumentException($"{family} type {type.FullName} has no config constructor, so it cannot be rebuilt from a model file. {ConfigConstructorHelp(type, family.ToLowerInvariant())}.");
        var values = (Dictionary<string, object?>)LayerConfig.Normalize(config.ToDictionary(p => p.Key, p => p.Value))!;
        try
        {
            return (T)constructor.Invoke([values]);
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
        {
            throw new ArgumentException($"The config constructor of {type.FullName} failed: {e.InnerException.Message}", e.InnerException);
        }
    }
}
