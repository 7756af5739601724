using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Builds layers without memory for their weights: while <see cref="Build{T}"/> runs on a thread, every
/// weight created there (<see cref="Layer.CreateWeight"/>) is a placeholder of the declared shape and
/// element type that occupies one element (a zero broadcast to the shape), and no initializer runs.
/// Loading builds the model a file declares this way first, to check the declared shapes against the
/// stored ones before allocating anything: a config that declares a billion-unit LSTM costs nothing.
/// </summary>
internal static class DeclaredWeights
{
    [ThreadStatic]
    private static bool t_active;

    /// <summary>Whether weights created on this thread are placeholders.</summary>
    public static bool Active => t_active;

    /// <summary>Runs <paramref name="build"/> with placeholder weights; automatic layer names drawn meanwhile come from a private copy of the counters (<see cref="LayerNames.Aside{T}"/>).</summary>
    public static T Build<T>(Func<T> build)
    {
        if (t_active)
            return build();
        t_active = true;
        try
        {
            return LayerNames.Aside(build);
        }
        finally
        {
            t_active = false;
        }
    }

    /// <summary>A placeholder weight of a shape and element type, holding one element.</summary>
    /// <exception cref="ArgumentException">A size is negative, or the shape holds more elements than a tensor can.</exception>
    internal static Parameter Placeholder(long[] shape, ScalarType dtype)
    {
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0)
                throw new ArgumentException($"A weight cannot have a negative size. Received shape: {ShapeText.Format(shape)}.");
            if (d != 0 && count > long.MaxValue / d)
                throw new ArgumentException($"A weight of shape {ShapeText.Format(shape)} would hold more elements than a tensor can.");
            count *= d;
        }
        using var scope = NewDisposeScope();
        var one = zeros(Enumerable.Repeat(1L, shape.Length).ToArray(), dtype);
        var weight = new Parameter(one.expand(shape), requires_grad: false);
        weight.DetachFromDisposeScope();
        return weight;
    }
}
