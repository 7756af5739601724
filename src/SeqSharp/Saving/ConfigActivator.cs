using System.Collections;
using System.Globalization;
using System.Reflection;
using SeqSharp.Layers;
using SeqSharp.Optimizers.Schedules;

namespace SeqSharp.Saving;

/// <summary>
/// Keras's <c>cls(**config)</c> for the families whose config keys are their constructor's
/// parameter names in snake case (losses, metrics, optimizers, schedules): finds the public
/// non-abstract subclass of the family type named <c>className</c> and calls its public
/// constructor with the config's values, defaults for the missing keys.
/// </summary>
/// <remarks>
/// Keys match parameters ignoring case and underscores (<c>beta_1</c> is <c>beta1</c>,
/// <c>learning_rate</c> is <c>learningRate</c>). A key no parameter takes is refused, as Keras refuses
/// unknown keyword arguments, unless the caller lists it as ignorable: keys Keras writes for
/// features SeqSharp does not have, accepted only with the value that means "off".
/// </remarks>
internal static class ConfigActivator
{
    /// <summary>A key Keras writes that SeqSharp accepts only with values that leave the object unchanged.</summary>
    /// <param name="Key">The config key.</param>
    /// <param name="Accepts">Whether a value (normalized: null, bool, long, double, string, list, dictionary) is harmless.</param>
    /// <param name="Expected">What the accepted values are, for the message.</param>
    public sealed record Ignorable(string Key, Func<object?, bool> Accepts, string Expected)
    {
        /// <summary>Any value is harmless (e.g. a schedule's <c>name</c>).</summary>
        public static Ignorable Any(string key) => new(key, _ => true, "anything");

        /// <summary>Only null (or absent).</summary>
        public static Ignorable Null(string key) => new(key, v => v is null, "null");

        /// <summary>Only the given boolean.</summary>
        public static Ignorable Bool(string key, bool value) => new(key, v => v is null || Equals(v, value), value ? "true" : "false");
    }

    /// <summary>The public non-abstract subclasses of <typeparamref name="T"/>, by class name.</summary>
    public static IReadOnlyDictionary<string, Type> Classes<T>() =>
        typeof(T).Assembly.GetTypes()
            .Where(t => t.IsPublic && !t.IsAbstract && typeof(T).IsAssignableFrom(t))
            .ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>Builds the object named <paramref name="className"/> from its config.</summary>
    /// <param name="family">What the objects are, for messages: <c>"Optimizer"</c>, <c>"Loss"</c>, ...</param>
    /// <param name="className">The Keras class name.</param>
    /// <param name="config">The config (CLR or JSON values).</param>
    /// <param name="ignorable">Keys accepted without a parameter, with their harmless values.</param>
    /// <exception cref="ArgumentException">An unknown class (the message lists the known ones), an unknown key, or a value of the wrong kind.</exception>
    /// <exception cref="NotSupportedException">An ignorable key with a value that would change the object.</exception>
    public static T Create<T>(string family, string className, IReadOnlyDictionary<string, object?> config, params Ignorable[] ignorable)
    {
        ArgumentNullException.ThrowIfNull(className);
        ArgumentNullException.ThrowIfNull(config);
        var classes = Classes<T>();
        if (!classes.TryGetValue(className, out var type))
            throw new ArgumentException(
                $"Unknown {family.ToLowerInvariant()} class '{className}'. Expected one of: {string.Join(", ", classes.Keys.Order(StringComparer.Ordinal))}.", nameof(className));

        var values = config.ToDictionary(p => p.Key, p => LayerConfig.Normalize(p.Value), StringComparer.Ordinal);
        var constructor = PickConstructor(type, values.Keys);
        var parameters = constructor.GetParameters();
        var byKey = parameters.ToDictionary(p => Key(p.Name!), StringComparer.Ordinal);
        var arguments = parameters.Select(p => p.HasDefaultValue ? p.DefaultValue : Type.Missing).ToArray();
        foreach (var (key, value) in values)
        {
            if (byKey.TryGetValue(Key(key), out var parameter))
            {
                arguments[parameter.Position] = Convert(family, className, key, value, parameter.ParameterType);
                continue;
            }
            var known = ignorable.FirstOrDefault(i => i.Key == key);
            if (known is null)
                throw new ArgumentException(
                    $"Unrecognized keyword arguments passed to {className}: '{key}' (value {Describe(value)}). " +
                    $"{family} {className} takes: {string.Join(", ", parameters.Select(p => Snake(p.Name!)))}.", nameof(config));
            if (!known.Accepts(value))
                throw new NotSupportedException(
                    $"{family} {className} option '{key}={Describe(value)}' is not supported by SeqSharp (expected {known.Expected}).");
        }
        for (int i = 0; i < parameters.Length; i++)
        {
            if (arguments[i] == Type.Missing)
                throw new ArgumentException($"{family} config for '{className}' has no '{Snake(parameters[i].Name!)}', which is required.", nameof(config));
        }
        try
        {
            return (T)constructor.Invoke(arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is ArgumentException or NotSupportedException)
        {
            // The constructor's own validation (e.g. a negative rate): rethrown as is, with its message.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    /// <summary>The Python-style (snake case) name of a C# parameter, as written in configs.</summary>
    public static string Snake(string camel)
    {
        var text = new System.Text.StringBuilder(camel.Length + 4);
        for (int i = 0; i < camel.Length; i++)
        {
            if (i > 0 && char.IsUpper(camel[i]) && (char.IsLower(camel[i - 1]) || char.IsDigit(camel[i - 1])))
                text.Append('_');
            text.Append(char.ToLowerInvariant(camel[i]));
        }
        return text.ToString();
    }

    /// <summary>The constructor that takes every key (or the most keys), ignoring constructors with delegate parameters.</summary>
    private static ConstructorInfo PickConstructor(Type type, IEnumerable<string> keys)
    {
        var wanted = keys.Select(Key).ToHashSet(StringComparer.Ordinal);
        return type.GetConstructors()
            .Where(c => c.GetParameters().All(p => !typeof(Delegate).IsAssignableFrom(p.ParameterType)))
            .OrderByDescending(c => c.GetParameters().Count(p => wanted.Contains(Key(p.Name!))))
            .ThenBy(c => c.GetParameters().Length)
            .FirstOrDefault()
            ?? throw new ArgumentException($"{type.Name} has no constructor that can be called from a config.");
    }

    private static string Key(string name) => name.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();

    private static object? Convert(string family, string className, string key, object? value, Type target)
    {
        var underlying = Nullable.GetUnderlyingType(target);
        if (value is null)
        {
            return !target.IsValueType || underlying is not null
                ? null
                : throw Invalid(family, className, key, "a value", value);
        }
        var type = underlying ?? target;
        try
        {
            if (type == typeof(double))
                return value is bool ? throw Invalid(family, className, key, "a number", value) : System.Convert.ToDouble(value, CultureInfo.InvariantCulture);
            if (type == typeof(float))
                return value is bool ? throw Invalid(family, className, key, "a number", value) : System.Convert.ToSingle(value, CultureInfo.InvariantCulture);
            if (type == typeof(int) || type == typeof(long))
            {
                double d = value is bool ? double.NaN : System.Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (d != Math.Floor(d) || Math.Abs(d) > 9e15)
                    throw Invalid(family, className, key, "an integer", value);
                return type == typeof(int) ? checked((int)d) : (object)(long)d;
            }
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            throw Invalid(family, className, key, type == typeof(double) || type == typeof(float) ? "a number" : "an integer", value);
        }
        if (type == typeof(bool))
            return value is bool b ? b : throw Invalid(family, className, key, "true or false", value);
        if (type == typeof(string))
            return value is string s ? s : throw Invalid(family, className, key, "a string", value);
        if (type == typeof(LearningRateSchedule))
            return Schedule(family, className, key, value);
        if (value is IList list && type.IsGenericType && type.GetGenericArguments() is [var element]
            && type.IsAssignableFrom(typeof(List<>).MakeGenericType(element)))
        {
            var converted = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
            foreach (var item in list)
                converted.Add(Convert(family, className, key, item, element));
            return converted;
        }
        if (type.IsArray && value is not (IList or string or IReadOnlyDictionary<string, object?>))
            value = new List<object?> { value };   // Keras writes a single threshold as a number where a list is also allowed.
        if (value is IList array && type.IsArray)
        {
            var itemType = type.GetElementType()!;
            var converted = Array.CreateInstance(itemType, array.Count);
            for (int i = 0; i < array.Count; i++)
                converted.SetValue(Convert(family, className, key, array[i], itemType), i);
            return converted;
        }
        throw Invalid(family, className, key, $"a value of type {type.Name}", value);
    }

    /// <summary>A learning rate: a number, or a serialized schedule <c>{"class_name": ..., "config": {...}}</c>.</summary>
    private static LearningRateSchedule Schedule(string family, string className, string key, object value) => value switch
    {
        double or long or int or float => new ConstantSchedule(System.Convert.ToDouble(value, CultureInfo.InvariantCulture)),
        IReadOnlyDictionary<string, object?> serialized when serialized.GetValueOrDefault("class_name") is string scheduleClass =>
            LearningRateSchedule.FromConfig(scheduleClass,
                serialized.GetValueOrDefault("config") as IReadOnlyDictionary<string, object?> ?? new Dictionary<string, object?>()),
        _ => throw Invalid(family, className, key, "a number or a serialized schedule {\"class_name\": ..., \"config\": {...}}", value),
    };

    private static ArgumentException Invalid(string family, string className, string key, string expected, object? received) =>
        new($"{family} config for '{className}' has an invalid '{key}': expected {expected}. Received: {Describe(received)}.");

    /// <summary>A value as Python would print it in a message.</summary>
    public static string Describe(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        string s => $"\"{s}\"",
        IReadOnlyDictionary<string, object?> d => "{" + string.Join(", ", d.Select(p => $"\"{p.Key}\": {Describe(p.Value)}")) + "}",
        IList list => "[" + string.Join(", ", list.Cast<object?>().Select(Describe)) + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
