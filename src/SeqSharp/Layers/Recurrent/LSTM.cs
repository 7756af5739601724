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
    /// <param name="dropout">Fraction of the input features to drop in training, in [0, 1]; one mask per call, the same at every step.</param>
    /// <param name="recurrentDropout">Fraction of the previous output's features to drop in training, in [0, 1]; one mask per call (runs the op-by-op loop in training).</param>
    /// <param name="seed">Seed for the dropout masks; null to use the global generator (<see cref="Utils.SetRandomSeed"/>).</param>
    /// <param name="returnSequences">Return every step's output rather than the last.</param>
    /// <param name="returnState">Return the final states too (Keras <c>return_state</c>): get them with <see cref="Rnn.CallWithState"/>; Sequential refuses such a layer.</param>
    /// <param name="goBackwards">Process the sequence from its end.</param>
    /// <param name="stateful">Carry each sample's final states into the next call (see <see cref="Rnn.Stateful"/>).</param>
    /// <param name="zeroOutputForMask">Output zeros at masked steps instead of the previous output.</param>
    /// <param name="inputShape">Sample shape <c>(timesteps, features)</c> when this is the first layer.</param>
    /// <param name="batchSize">Fixed batch size of a stateful layer (Keras's <c>batch_input_shape[0]</c>); null to take it from the first call.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <param name="kernelRegularizer">Penalty on the input kernel (a name such as <c>"l2"</c> or an object); null for none.</param>
    /// <param name="recurrentRegularizer">Penalty on the recurrent kernel; null for none.</param>
    /// <param name="biasRegularizer">Penalty on the bias; null for none.</param>
    /// <param name="activityRegularizer">Penalty on the output; null for none.</param>
    /// <param name="kernelConstraint">Projection of the input kernel after each optimizer step; null for none.</param>
    /// <param name="recurrentConstraint">Projection of the recurrent kernel after each optimizer step; null for none.</param>
    /// <param name="biasConstraint">Projection of the bias after each optimizer step; null for none.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> or <paramref name="batchSize"/> is not positive, or a dropout rate is outside [0, 1].</exception>
    /// <exception cref="ArgumentException">Unknown activation or initializer name.</exception>
    public LSTM(int units, string activation = "tanh", string recurrentActivation = "sigmoid", bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
        bool unitForgetBias = true, bool usePeepholes = false, double dropout = 0.0, double recurrentDropout = 0.0, long? seed = null,
        bool returnSequences = false, bool returnState = false, bool goBackwards = false, bool stateful = false, bool zeroOutputForMask = false,
        long?[]? inputShape = null, int? batchSize = null, string? name = null, ScalarType? dtype = null,
        Regularizers.Regularizer? kernelRegularizer = null, Regularizers.Regularizer? recurrentRegularizer = null,
        Regularizers.Regularizer? biasRegularizer = null, Regularizers.Regularizer? activityRegularizer = null,
        Constraints.Constraint? kernelConstraint = null, Constraints.Constraint? recurrentConstraint = null,
        Constraints.Constraint? biasConstraint = null)
        : base(new LstmCell(units, activation, recurrentActivation, useBias, kernelInitializer, recurrentInitializer, biasInitializer,
                unitForgetBias, usePeepholes, dropout, recurrentDropout, seed),
            returnSequences, returnState, goBackwards, stateful, zeroOutputForMask, inputShape, batchSize, name, dtype)
    {
        SetRules(kernelRegularizer, recurrentRegularizer, biasRegularizer, activityRegularizer, kernelConstraint, recurrentConstraint, biasConstraint);
    }

    /// <summary>The cell.</summary>
    public new LstmCell Cell => (LstmCell)base.Cell;

    internal static LSTM FromConfig(LayerConfig c) => new(c.Int("units"), c.String("activation", "tanh"), c.String("recurrent_activation", "sigmoid"),
        c.Bool("use_bias", true), c.Initializer("kernel_initializer"), c.Initializer("recurrent_initializer"), c.Initializer("bias_initializer"),
        c.Bool("unit_forget_bias", true), c.Bool("use_peepholes", false), c.Double("dropout", 0), c.Double("recurrent_dropout", 0), c.OptionalLong("seed"),
        c.Bool("return_sequences", false), c.Bool("return_state", false), c.Bool("go_backwards", false), c.Bool("stateful", false),
        c.Bool("zero_output_for_mask", false), c.InputShape, c.BatchSize, c.Name, c.DType);
}
