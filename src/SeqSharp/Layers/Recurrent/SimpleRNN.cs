using SeqSharp.Initializers;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// A fully connected recurrent layer (Keras <c>SimpleRNN</c>):
/// <c>h_t = activation(x_t · kernel + h_{t-1} · recurrent_kernel + bias)</c>, <c>h_0 = 0</c>.
/// </summary>
/// <remarks>
/// Input <c>(batch, timesteps, features)</c>. Output <c>(batch, timesteps, units)</c> with
/// <c>returnSequences</c>, else <c>(batch, units)</c>. Weights (Keras order): <c>kernel (features, units)</c>,
/// <c>recurrent_kernel (units, units)</c>, <c>bias (units)</c>. Runs as one fused autograd kernel
/// (see <see cref="SimpleRnnCell"/>).
/// </remarks>
/// <example>
/// <code>
/// model.Add(new SimpleRNN(units: 64, inputShape: [10, 1], returnSequences: true));
/// </code>
/// </example>
public sealed class SimpleRNN : Rnn
{
    /// <summary>Creates the layer.</summary>
    /// <param name="units">Size of the hidden state, positive.</param>
    /// <param name="activation">Default <c>"tanh"</c>.</param>
    /// <param name="useBias">Whether to add a bias.</param>
    /// <param name="kernelInitializer">Default <c>"glorot_uniform"</c>.</param>
    /// <param name="recurrentInitializer">Default <c>"orthogonal"</c>.</param>
    /// <param name="biasInitializer">Default <c>"zeros"</c>.</param>
    /// <param name="returnSequences">Return every step's output rather than the last.</param>
    /// <param name="goBackwards">Process the sequence from its end.</param>
    /// <param name="inputShape">Sample shape <c>(timesteps, features)</c> when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown activation or initializer name.</exception>
    public SimpleRNN(int units, string activation = "tanh", bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
        bool returnSequences = false, bool goBackwards = false,
        long[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(new SimpleRnnCell(units, activation, useBias, kernelInitializer, recurrentInitializer, biasInitializer),
            returnSequences, goBackwards, inputShape, name, dtype)
    {
    }

    /// <summary>The cell.</summary>
    public new SimpleRnnCell Cell => (SimpleRnnCell)base.Cell;

    internal static SimpleRNN FromConfig(LayerConfig c) => new(c.Int("units"), c.String("activation", "tanh"), c.Bool("use_bias", true),
        c.Initializer("kernel_initializer"), c.Initializer("recurrent_initializer"), c.Initializer("bias_initializer"),
        c.Bool("return_sequences", false), c.Bool("go_backwards", false), c.InputShape, c.Name, c.DType);
}
