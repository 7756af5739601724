using static TorchSharp.torch;

namespace SeqSharp.Constraints;

/// <summary>
/// A projection applied to a weight after every optimizer step (Keras
/// <c>keras.constraints.Constraint</c>). A string converts implicitly to the constraint of that
/// Keras name, so <c>kernelConstraint: "non_neg"</c> works.
/// </summary>
/// <example>
/// <code>
/// model.Add(new Dense(64, kernelConstraint: new MaxNorm(3)));
/// </code>
/// </example>
public abstract class Constraint
{
    /// <summary>The constrained values of <paramref name="w"/> (a new tensor).</summary>
    public abstract Tensor Apply(Tensor w);

    /// <summary>The Keras class name, e.g. <c>"MaxNorm"</c>.</summary>
    public virtual string ClassName => GetType().Name;

    /// <summary>The constructor arguments by their Keras names.</summary>
    public virtual Dictionary<string, object?> GetConfig() => [];

    /// <summary>
    /// The constraint with this Keras name and its defaults: <c>"max_norm"</c>, <c>"min_max_norm"</c>,
    /// <c>"non_neg"</c>, <c>"unit_norm"</c>, or the class names.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static Constraint Get(string name) => ConstraintRegistry.Get(name);

    /// <summary>Converts a Keras constraint name (see <see cref="Get"/>).</summary>
    public static implicit operator Constraint(string name) => Get(name);

    /// <summary>Rebuilds a constraint from its Keras class name and config (Keras's <c>cls(**config)</c>).</summary>
    /// <exception cref="ArgumentException">An unknown class (the message lists the known ones), an unknown key, or an invalid value.</exception>
    public static Constraint FromConfig(string className, IReadOnlyDictionary<string, object?> config) =>
        Saving.ConfigActivator.Create<Constraint>("Constraint", className, config);

    /// <summary>The L2 norms along <paramref name="axis"/>, kept as size-1 axes.</summary>
    private protected static Tensor Norms(Tensor w, long[] axis) => w.square().sum(axis, keepdim: true).sqrt();
}
