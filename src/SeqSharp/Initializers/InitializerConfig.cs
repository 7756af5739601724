namespace SeqSharp.Initializers;

/// <summary>Keras's serialized form of an initializer: <c>{"class_name": ..., "config": {...}}</c>.</summary>
internal static class InitializerConfig
{
    public static Dictionary<string, object?> Of(Initializer initializer) => new()
    {
        ["class_name"] = initializer.ClassName,
        ["config"] = initializer.GetConfig(),
    };
}
