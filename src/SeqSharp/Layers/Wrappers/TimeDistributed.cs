using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Applies a layer to every time step of a sequence (Keras <c>TimeDistributed</c>), with the same
/// weights at every step: on <c>(batch, timesteps, ...)</c> the wrapped layer sees each step's
/// <c>(batch, ...)</c> slice, and the results are stacked back along the time axis.
/// </summary>
/// <remarks>
/// <para>The steps run as one call of the wrapped layer on <c>(batch · timesteps, ...)</c>, which
/// is the same as Keras's loop over steps for layers that treat samples independently (Dense,
/// Conv1D, Dropout, ...). A BatchNormalization inside computes its statistics over all steps of
/// the batch at once rather than per step.</para>
/// <para>Masks are passed on unchanged (Keras 3); the wrapped layer does not see them. Weights:
/// the wrapped layer's.</para>
/// </remarks>
/// <example>
/// <code>
/// model.Add(new LSTM(32, returnSequences: true, inputShape: [30, 1]));
/// model.Add(new TimeDistributed(new Dense(1)));      // (batch, 30, 1)
/// </code>
/// </example>
public sealed class TimeDistributed : Layer
{
    /// <summary>Creates the wrapper.</summary>
    /// <param name="layer">The layer to apply at every step; it takes the input without its time axis.</param>
    /// <param name="inputShape">Sample shape <c>(timesteps, ...)</c> when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="layer"/> is null.</exception>
    public TimeDistributed(Layer layer, long?[]? inputShape = null, string? name = null)
        : base(name, inputShape, (layer ?? throw new ArgumentNullException(nameof(layer))).DType)
    {
        Layer = layer;
        register_module("layer", layer);
    }

    /// <summary>The layer applied at every step.</summary>
    public Layer Layer { get; }

    /// <inheritdoc />
    protected internal override IReadOnlyList<Layer> WrappedLayers => [Layer];

    /// <inheritdoc />
    public override InputSpec InputSpec => new(MinRank: 3);

    /// <inheritdoc />
    protected override bool SupportsMasking => true;

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape) => Layer.Build(sampleShape[1..]);

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape) => [sampleShape[0], .. Layer.ComputeOutputShape(sampleShape[1..])];

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        long batch = x.shape[0], steps = x.shape[1];
        var y = Layer.Call(x.reshape([batch * steps, .. x.shape[2..]]));
        return y.reshape([batch, steps, .. y.shape[1..]]);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["layer"] = Serialize(Layer);
        return config;
    }

    /// <summary>
    /// Keras's nested form of a layer: <c>{"class_name": ..., "config": {...}}</c>, with the
    /// <c>registered_name</c> of a user-defined layer (its <see cref="CustomObjects"/> name, else its class name).
    /// </summary>
    internal static Dictionary<string, object?> Serialize(Layer layer)
    {
        var serialized = new Dictionary<string, object?>
        {
            ["class_name"] = layer.ClassName,
            ["config"] = layer.GetConfig(),
        };
        if (layer.GetType().Assembly != typeof(Layer).Assembly)
            serialized["registered_name"] = CustomObjects.RegisteredName(layer.GetType()) ?? layer.ClassName;
        return serialized;
    }

    internal static TimeDistributed FromConfig(LayerConfig c) =>
        new(c.Layer("layer") ?? throw new ArgumentException("Layer config for 'TimeDistributed' has no 'layer', which is required."), c.InputShape, c.Name);
}
