using SeqSharp.Initializers;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Long short-term memory layer (Keras <c>LSTM</c>, Hochreiter &amp; Schmidhuber 1997), with optional
/// peephole connections (Gers &amp; Schmidhuber 2000). Equations: see <see cref="LstmCell"/>.
/// </summary>
/// <remarks>
/// Input <c>(batch, timesteps, features)</c>. Output <c>(batch, timesteps, units)</c> with
/// <c>returnSequences</c>, else <c>(batch, units)</c>. Weights (Keras order): <c>kernel (features, 4·units)</c>,
/// <c>recurrent_kernel (units, 4·units)</c>, <c>bias (4·units)</c> with gates i, f, c, o; with
/// peepholes also <c>peephole (3, units)</c>. Runs as one fused autograd kernel with a hand-written
/// backward-through-time.
/// </remarks>
/// <example>
/// <code>
/// model.Add(new LSTM(units: 64, inputShape: [10, 1], returnSequences: true));
/// </code>
/// </example>
public sealed class LSTM : Rnn
{
    /// <summary>Creates the layer.</summary>
    /// <param name="units">Size of the hidden and cell states, positive.</param>
    /// <param name="activation">Cell-input and output activation; default <c>"tanh"</c>.</param>
    /// <param name="recurrentActivation">Gate activation; default <c>"sigmoid"</c>.</param>
    /// <param name="useBias">Whether to add a bias.</param>
    /// <param name="kernelInitializer">Default <c>"glorot_uniform"</c>.</param>
    /// <param name="recurrentInitializer">Default <c>"orthogonal"</c>.</param>
    /// <param name="biasInitializer">Default <c>"zeros"</c>.</param>
    /// <param name="unitForgetBias">Start the forget-gate bias at 1 (Keras default true).</param>
    /// <param name="usePeepholes">Let the gates read the cell state through diagonal weights.</param>
    /// <param name="returnSequences">Return every step's output rather than the last.</param>
    /// <param name="goBackwards">Process the sequence from its end.</param>
    /// <param name="inputShape">Sample shape <c>(timesteps, features)</c> when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown activation or initializer name.</exception>
    public LSTM(int units, string activation = "tanh", string recurrentActivation = "sigmoid", bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
        bool unitForgetBias = true, bool usePeepholes = false, bool returnSequences = false, bool goBackwards = false,
        long[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(new LstmCell(units, activation, recurrentActivation, useBias, kernelInitializer, recurrentInitializer, biasInitializer,
                unitForgetBias, usePeepholes),
            returnSequences, goBackwards, inputShape, name, dtype)
    {
    }

    /// <summary>The cell.</summary>
    public new LstmCell Cell => (LstmCell)base.Cell;

    internal static LSTM FromConfig(LayerConfig c) => new(c.Int("units"), c.String("activation", "tanh"), c.String("recurrent_activation", "sigmoid"),
        c.Bool("use_bias", true), c.Initializer("kernel_initializer"), c.Initializer("recurrent_initializer"), c.Initializer("bias_initializer"),
        c.Bool("unit_forget_bias", true), c.Bool("use_peepholes", false), c.Bool("return_sequences", false), c.Bool("go_backwards", false),
        c.InputShape, c.Name, c.DType);
}
