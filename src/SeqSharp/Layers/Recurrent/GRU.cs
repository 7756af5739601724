using SeqSharp.Initializers;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Gated recurrent unit layer (Keras <c>GRU</c>, Cho et al. 2014). Equations: see <see cref="GruCell"/>.
/// </summary>
/// <remarks>
/// Input <c>(batch, timesteps, features)</c>. Output <c>(batch, timesteps, units)</c> with
/// <c>returnSequences</c>, else <c>(batch, units)</c>. Weights (Keras order): <c>kernel (features, 3·units)</c>,
/// <c>recurrent_kernel (units, 3·units)</c>, <c>bias (2, 3·units)</c> (input and recurrent rows;
/// <c>(3·units)</c> with <c>resetAfter: false</c>), gates z, r, h. Runs as one fused autograd
/// kernel with a hand-written backward-through-time.
/// </remarks>
/// <example>
/// <code>
/// model.Add(new GRU(units: 32, inputShape: [20, 4], returnSequences: true));
/// </code>
/// </example>
public sealed class GRU : Rnn
{
    /// <summary>Creates the layer.</summary>
    /// <param name="units">Size of the hidden state, positive.</param>
    /// <param name="activation">Candidate activation; default <c>"tanh"</c>.</param>
    /// <param name="recurrentActivation">Update and reset gate activation; default <c>"sigmoid"</c>.</param>
    /// <param name="useBias">Whether to add biases.</param>
    /// <param name="kernelInitializer">Default <c>"glorot_uniform"</c>.</param>
    /// <param name="recurrentInitializer">Default <c>"orthogonal"</c>.</param>
    /// <param name="biasInitializer">Default <c>"zeros"</c>.</param>
    /// <param name="returnSequences">Return every step's output rather than the last.</param>
    /// <param name="goBackwards">Process the sequence from its end.</param>
    /// <param name="resetAfter">Apply the reset gate after the recurrent product (Keras 3's default, and PyTorch's form) rather than before.</param>
    /// <param name="inputShape">Sample shape <c>(timesteps, features)</c> when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown activation or initializer name.</exception>
    public GRU(int units, string activation = "tanh", string recurrentActivation = "sigmoid", bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
        bool returnSequences = false, bool goBackwards = false, bool resetAfter = true,
        long[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(new GruCell(units, activation, recurrentActivation, useBias, kernelInitializer, recurrentInitializer, biasInitializer, resetAfter),
            returnSequences, goBackwards, inputShape, name, dtype)
    {
    }

    /// <summary>The cell.</summary>
    public new GruCell Cell => (GruCell)base.Cell;

    internal static GRU FromConfig(LayerConfig c) => new(c.Int("units"), c.String("activation", "tanh"), c.String("recurrent_activation", "sigmoid"),
        c.Bool("use_bias", true), c.Initializer("kernel_initializer"), c.Initializer("recurrent_initializer"), c.Initializer("bias_initializer"),
        c.Bool("return_sequences", false), c.Bool("go_backwards", false), c.Bool("reset_after", true), c.InputShape, c.Name, c.DType);
}
