using static TorchSharp.torch;

namespace SeqSharp.Initializers;

/// <summary>
/// Creates a layer's initial weight values (Keras <c>keras.initializers</c>). A string converts
/// implicitly to the initializer of that Keras name, so <c>kernelInitializer: "he_normal"</c> works.
/// </summary>
/// <remarks>
/// Random initializers draw from TorchSharp's global generator, which <see cref="Utils.SetRandomSeed"/> seeds.
/// Fans follow Keras: for a shape <c>(..., in, out)</c>, <c>fanIn = in × receptive field</c> and
/// <c>fanOut = out × receptive field</c>; a vector has <c>fanIn = fanOut = length</c>.
/// </remarks>
public abstract class Initializer
{
    /// <summary>Returns a new tensor of the given shape and type, not requiring gradients.</summary>
    /// <param name="shape">The weight shape, e.g. <c>(in, units)</c> for a kernel.</param>
    /// <param name="dtype">The floating-point element type.</param>
    public abstract Tensor Create(long[] shape, ScalarType dtype);

    /// <summary>The Keras class name, e.g. <c>GlorotUniform</c>.</summary>
    public virtual string ClassName => GetType().Name;

    /// <summary>The constructor arguments, by their Keras names.</summary>
    public virtual IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>();

    /// <summary>The initializer with this Keras name (<c>"glorot_uniform"</c>, <c>"orthogonal"</c>, ...).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static Initializer Get(string name) => InitializerRegistry.Get(name);

    /// <summary>Converts a Keras initializer name.</summary>
    public static implicit operator Initializer(string name) => Get(name);

    /// <summary>(fanIn, fanOut) of a weight shape, computed as Keras does.</summary>
    public static (double FanIn, double FanOut) ComputeFans(long[] shape)
    {
        if (shape.Length == 0)
            return (1, 1);
        if (shape.Length == 1)
            return (shape[0], shape[0]);
        double receptive = 1;
        for (int k = 0; k < shape.Length - 2; k++)
            receptive *= shape[k];
        return (shape[^2] * receptive, shape[^1] * receptive);
    }
}
