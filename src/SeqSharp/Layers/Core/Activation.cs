using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Applies an activation function element-wise (Keras <c>layers.Activation</c>); passes masks on.
/// </summary>
/// <example>
/// <code>
/// model.Add(new Dense(64));
/// model.Add(new Activation("relu"));
/// </code>
/// </example>
public sealed class Activation : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="activation">A Keras activation name, e.g. <c>"relu"</c>, <c>"tanh"</c>, <c>"softmax"</c>.</param>
    /// <param name="inputShape">Sample shape when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentException">Unknown activation name (the message lists the valid ones).</exception>
    public Activation(string activation, long?[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(name, inputShape, dtype)
    {
        Function = Activations.Activation.Get(activation);
    }

    /// <summary>The activation function.</summary>
    public Activations.Activation Function { get; }

    /// <inheritdoc />
    public override InputSpec InputSpec => new(MinRank: 1);

    /// <inheritdoc />
    protected override bool SupportsMasking => true;

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape)
    {
    }

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape) => Function.ComputeOutputShape(sampleShape);

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => Function.Apply(x);

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["activation"] = Function.Name;
        return config;
    }

    internal static Activation FromConfig(LayerConfig c) => new(c.String("activation"), c.InputShape, c.Name, c.DType);
}
