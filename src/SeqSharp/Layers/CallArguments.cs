using System.Text.Json;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Reads the keyword call arguments of a <see cref="MultiInputLayer"/> (Keras names, values as C#
/// objects or as the <see cref="JsonElement"/>s of a model file) and refuses unknown ones.
/// </summary>
internal static class CallArguments
{
    /// <summary>Keys a graph may record that the layer does not read itself: the graph passes masks and the training mode.</summary>
    private static readonly string[] Ignored = ["training", "mask"];

    /// <summary>Throws when <paramref name="args"/> holds a key the layer does not take.</summary>
    public static void Check(MultiInputLayer layer, IReadOnlyDictionary<string, object?> args, params string[] known)
    {
        foreach (var key in args.Keys)
        {
            if (!known.Contains(key) && !Ignored.Contains(key))
                throw new ArgumentException(
                    $"Layer '{layer.Name}' ({layer.ClassName}) has no call argument '{key}'. " +
                    (known.Length == 0 ? "It takes none." : $"Expected: {string.Join(", ", known)}."), nameof(args));
        }
    }

    /// <summary>A boolean argument; <paramref name="fallback"/> when absent or null.</summary>
    public static bool Bool(MultiInputLayer layer, IReadOnlyDictionary<string, object?> args, string key, bool fallback = false) =>
        args.TryGetValue(key, out var value) ? value switch
        {
            null => fallback,
            bool b => b,
            JsonElement { ValueKind: JsonValueKind.True } => true,
            JsonElement { ValueKind: JsonValueKind.False } => false,
            JsonElement { ValueKind: JsonValueKind.Null } => fallback,
            _ => throw new ArgumentException($"Layer '{layer.Name}' ({layer.ClassName}) expects true or false for call argument '{key}'. Received: {value}.", nameof(args)),
        } : fallback;

    /// <summary>A tensor argument, or null when absent or null.</summary>
    public static Tensor? Tensor(MultiInputLayer layer, IReadOnlyDictionary<string, object?> args, string key) =>
        args.TryGetValue(key, out var value) ? value switch
        {
            null => null,
            Tensor t => t,
            JsonElement { ValueKind: JsonValueKind.Null } => null,
            _ => throw new ArgumentException($"Layer '{layer.Name}' ({layer.ClassName}) expects a tensor for call argument '{key}'. Received: {value.GetType().Name}.", nameof(args)),
        } : null;
}
