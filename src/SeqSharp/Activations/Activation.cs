using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Activations;

/// <summary>
/// An element-wise activation function known by its Keras name (<c>"tanh"</c>, <c>"relu"</c>, ...).
/// </summary>
/// <remarks>
/// <see cref="Apply"/> is differentiable through TorchSharp's autograd. Activations whose derivative
/// can be written in terms of their output (<see cref="IsFusable"/>) also run inside SeqSharp's fused
/// recurrent kernels; the others (<c>softmax</c>, <c>swish</c>, <c>gelu</c>) make a recurrent layer
/// take its op-by-op path.
/// </remarks>
public sealed class Activation
{
    private readonly Func<Tensor, Tensor> _apply;

    internal Activation(string name, ActivationKind kind, Func<Tensor, Tensor> apply, bool halvesLastAxis = false)
    {
        Name = name;
        Kind = kind;
        _apply = apply;
        HalvesLastAxis = halvesLastAxis;
    }

    /// <summary>The Keras name, e.g. <c>"tanh"</c>.</summary>
    public string Name { get; }

    internal ActivationKind Kind { get; }

    /// <summary>Whether the fused recurrent kernels can evaluate this activation and its derivative.</summary>
    public bool IsFusable => Kind != ActivationKind.Other;

    /// <summary>
    /// Whether the activation halves the last axis (only <c>"glu"</c>, which gates one half of it
    /// with the other); every other activation keeps the shape.
    /// </summary>
    public bool HalvesLastAxis { get; }

    /// <summary>The output shape for an input shape: the same shape, or the last axis halved for <c>"glu"</c>.</summary>
    /// <exception cref="ArgumentException"><c>"glu"</c> with an odd last axis.</exception>
    public long[] ComputeOutputShape(long[] shape)
    {
        if (!HalvesLastAxis)
            return shape;
        if (shape.Length == 0 || shape[^1] % 2 != 0)
            throw new ArgumentException(
                $"The activation '{Name}' splits the last axis in two halves, so its size must be even. Received: shape=[{string.Join(", ", shape)}].");
        return [.. shape[..^1], shape[^1] / 2];
    }

    /// <summary>
    /// The activation for a recurrent cell, whose state must keep its size: every activation but
    /// <c>"glu"</c>.
    /// </summary>
    internal static Activation ForRecurrent(string? name, string argument)
    {
        var activation = Get(name);
        if (activation.HalvesLastAxis)
            throw new ArgumentException(
                $"A recurrent cell's {argument} must keep the state's size, but '{activation.Name}' halves the last axis. Received: {argument}=\"{name}\".", argument);
        return activation;
    }

    /// <summary>Applies the activation to <paramref name="x"/>; differentiable.</summary>
    public Tensor Apply(Tensor x) => _apply(x);

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>
    /// Returns the activation with the given Keras name (<c>null</c> or <c>""</c> mean <c>"linear"</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a known activation; the message lists the valid names.</exception>
    public static Activation Get(string? name) => ActivationRegistry.Get(name);

    /// <summary>The Keras names this version knows.</summary>
    public static IReadOnlyCollection<string> Names => ActivationRegistry.Names;
}
