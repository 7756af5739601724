using System.Reflection;
using System.Text.RegularExpressions;

namespace SeqSharp.Tests.Losses;

/// <summary>
/// Keras's <c>run_class_serialization_test</c>: build an object with non-default constructor
/// arguments, read its config, build a second object from the config (keys are the constructor's
/// parameter names in snake case), and require both configs to be equal and to cover every parameter.
/// </summary>
internal static partial class ConfigRoundTrip
{
    public static object?[] DefaultArguments(Type type) =>
        Constructor(type).GetParameters().Select(p => p.DefaultValue).ToArray();

    public static void Check(Type type, Func<object, Dictionary<string, object?>> getConfig)
    {
        var ctor = Constructor(type);
        var parameters = ctor.GetParameters();
        var first = ctor.Invoke(parameters.Select(NonDefault).ToArray());
        var config = getConfig(first);
        foreach (var p in parameters)
            Assert.True(config.ContainsKey(Snake(p.Name!)), $"{type.Name}: config lacks '{Snake(p.Name!)}'.");
        Assert.Equal(parameters.Length, config.Count);
        var second = ctor.Invoke(parameters.Select(p => config[Snake(p.Name!)]).ToArray());
        Assert.Equal(config, getConfig(second));
        foreach (var p in parameters.Where(p => p.Name != "name"))
            Assert.NotEqual(p.DefaultValue, config[Snake(p.Name!)]);
    }

    private static ConstructorInfo Constructor(Type type) =>
        type.GetConstructors().Single(c => c.GetParameters().All(p => p.HasDefaultValue));

    private static object? NonDefault(ParameterInfo p) => p.Name switch
    {
        "reduction" => "sum",
        "name" => "custom_name",
        "axis" => 1,
        "ignoreClass" => 3,
        "threshold" => 0.25,
        "k" => 2,
        "classAggregation" => "variance_weighted_average",
        "numRegressors" => 2,
        _ when p.ParameterType == typeof(bool) => !(bool)p.DefaultValue!,
        _ when p.ParameterType == typeof(double) => 0.25,
        _ => throw new InvalidOperationException($"No non-default test value for parameter '{p.Name}' of type {p.ParameterType.Name}."),
    };

    private static string Snake(string camel) => CamelBoundary().Replace(camel, "$1_$2").ToLowerInvariant();

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex CamelBoundary();
}
