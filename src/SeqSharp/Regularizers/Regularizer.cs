using static TorchSharp.torch;

namespace SeqSharp.Regularizers;

/// <summary>
/// A penalty on a weight or on a layer's output that training adds to the loss (Keras
/// <c>keras.regularizers.Regularizer</c>). A string converts implicitly to the regularizer of that
/// Keras name, so <c>kernelRegularizer: "l2"</c> works.
/// </summary>
/// <remarks>
/// <para>As Keras 3: the penalties of all trainable weights that have a regularizer, and the activity
/// penalties of the current forward pass (each divided by the batch size), are added to the compiled
/// loss. The <c>loss</c> that <c>Fit</c> and <c>Evaluate</c> report is that total; metrics are not
/// affected. Frozen layers (<c>Trainable = false</c>) add no weight penalty.</para>
/// </remarks>
/// <example>
/// <code>
/// model.Add(new Dense(64, kernelRegularizer: new L2(1e-4), activityRegularizer: "l1"));
/// </code>
/// </example>
public abstract class Regularizer
{
    /// <summary>The penalty for <paramref name="x"/>, a scalar of its element type; differentiable.</summary>
    public abstract Tensor Compute(Tensor x);

    /// <summary>The Keras class name, e.g. <c>"L2"</c>.</summary>
    public virtual string ClassName => GetType().Name;

    /// <summary>The constructor arguments by their Keras names.</summary>
    public abstract Dictionary<string, object?> GetConfig();

    /// <summary>
    /// The regularizer with this Keras name and its defaults: <c>"l1"</c> (0.01), <c>"l2"</c> (0.01),
    /// <c>"l1_l2"</c> (0.01 and 0.01, as Keras documents it), <c>"orthogonal_regularizer"</c>, or the class names.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static Regularizer Get(string name) => RegularizerRegistry.Get(name);

    /// <summary>Converts a Keras regularizer name (see <see cref="Get"/>).</summary>
    public static implicit operator Regularizer(string name) => Get(name);

    /// <summary>Rebuilds a regularizer from its Keras class name and config (Keras's <c>cls(**config)</c>).</summary>
    /// <exception cref="ArgumentException">An unknown class (the message lists the known ones), an unknown key, or an invalid value.</exception>
    public static Regularizer FromConfig(string className, IReadOnlyDictionary<string, object?> config) =>
        Saving.ConfigActivator.Create<Regularizer>("Regularizer", className, config);

    /// <summary>A finite, non-negative factor, or the Keras message.</summary>
    private protected static double CheckFactor(double value, string name) =>
        double.IsFinite(value) && value >= 0
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"Invalid value for argument {name}: expected a non-negative float. Received: {name}={value}.");
}
