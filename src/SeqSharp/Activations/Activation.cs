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

    internal Activation(string name, ActivationKind kind, Func<Tensor, Tensor> apply)
    {
        Name = name;
        Kind = kind;
        _apply = apply;
    }

    /// <summary>The Keras name, e.g. <c>"tanh"</c>.</summary>
    public string Name { get; }

    internal ActivationKind Kind { get; }

    /// <summary>Whether the fused recurrent kernels can evaluate this activation and its derivative.</summary>
    public bool IsFusable => Kind != ActivationKind.Other;

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
