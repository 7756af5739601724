using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Declares the model's input sample shape (Keras <c>InputLayer</c> / <c>keras.Input</c>); passes its input through.
/// </summary>
/// <example>
/// <code>
/// model.Add(new InputLayer(shape: [10, 1]));
/// model.Add(new LSTM(64));
/// </code>
/// </example>
public sealed class InputLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="shape">The shape of one sample, without the batch axis.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentOutOfRangeException">An empty shape or a non-positive size.</exception>
    public InputLayer(long?[] shape, string? name = null, ScalarType? dtype = null)
        : base(name, shape ?? throw new ArgumentNullException(nameof(shape)), dtype)
    {
    }

    /// <inheritdoc />
    public override InputSpec InputSpec => new(Rank: InputShape!.Length + 1, Axes: Enumerable.Range(1, InputShape.Length).Where(a => InputShape[a - 1] != -1).ToDictionary(a => a, a => InputShape[a - 1]));

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape)
    {
    }

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape) => sampleShape;

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => x;

    internal static InputLayer FromConfig(LayerConfig c) =>
        new(c.InputShape ?? throw new ArgumentException("Layer config for 'InputLayer' has no 'batch_input_shape' (or 'batch_shape'), which is required."), c.Name, c.DType);
}
