using TorchSharp;
using SeqSharp.Layers.Kernels;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// One step of a recurrent layer (Keras <c>SimpleRNNCell</c>, <c>LSTMCell</c>): owns the weights
/// and the cell equations. <see cref="Rnn"/> owns the loop over time.
/// </summary>
/// <remarks>
/// Each cell has two implementations of the same equations: <see cref="Step"/>, a plain op-by-op
/// version differentiated by TorchSharp's autograd (the reference, and the path for activations the
/// fused kernel does not cover), and <see cref="RunFused(Tensor, Tensor[])"/>, the whole sequence in one custom
/// autograd function with a hand-written backward-through-time.
/// </remarks>
public abstract class RecurrentCell : nn.Module
{
    private readonly List<Parameter> _weights = [];
    private readonly LayerRandom _random;

    /// <summary>Creates the cell.</summary>
    /// <param name="name">The module name.</param>
    /// <param name="units">Size of the hidden state, positive.</param>
    /// <param name="dropout">Fraction of the input features to drop, in [0, 1].</param>
    /// <param name="recurrentDropout">Fraction of the previous state's features to drop, in [0, 1].</param>
    /// <param name="seed">Seed of the cell's own random generator for dropout masks; null for the global generator.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> is not positive, or a rate is outside [0, 1].</exception>
    protected RecurrentCell(string name, int units, double dropout, double recurrentDropout, long? seed) : base(name)
    {
        if (units <= 0)
            throw new ArgumentOutOfRangeException(nameof(units), units, $"Expected a positive integer for units. Received: units={units}.");
        if (!(dropout >= 0 && dropout <= 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, $"Expected a dropout rate in [0, 1]. Received: dropout={dropout}.");
        if (!(recurrentDropout >= 0 && recurrentDropout <= 1))
            throw new ArgumentOutOfRangeException(nameof(recurrentDropout), recurrentDropout,
                $"Expected a recurrent dropout rate in [0, 1]. Received: recurrentDropout={recurrentDropout}.");
        Units = units;
        Dropout = dropout;
        RecurrentDropout = recurrentDropout;
        _random = new LayerRandom(seed);
    }

    /// <summary>Size of the hidden state (and of the output).</summary>
    public int Units { get; }

    /// <summary>
    /// Fraction of the input features dropped during training (Keras <c>dropout</c>): one mask per
    /// call, the same at every time step.
    /// </summary>
    public double Dropout { get; }

    /// <summary>
    /// Fraction of the previous state's features dropped during training (Keras
    /// <c>recurrent_dropout</c>, Gal &amp; Ghahramani 2016): one mask per call, the same at every step.
    /// </summary>
    public double RecurrentDropout { get; }

    /// <summary>The name of the recurrent layer that owns the cell (for error messages), or null for a cell on its own.</summary>
    internal string? LayerName { get; set; }

    /// <summary>The dropout seed, or null.</summary>
    public long? Seed => _random.Seed;

    /// <summary>The number of gate blocks in the kernels: 1 for SimpleRNN, 4 for LSTM, 3 for GRU.</summary>
    internal abstract int GateCount { get; }

    /// <summary>
    /// The number of masks drawn per dropout kind. As Keras: with recurrent dropout each gate block
    /// gets its own input and recurrent mask (its <c>implementation=1</c>); otherwise one input mask
    /// is shared by all gates.
    /// </summary>
    internal int DropoutMaskCount => RecurrentDropout > 0 ? GateCount : 1;

    /// <summary>
    /// Draws <see cref="DropoutMaskCount"/> inverted-dropout masks <c>(count, batch, dim)</c>: each
    /// element is 0 with probability <paramref name="rate"/>, else <c>1 / (1 - rate)</c>.
    /// </summary>
    internal Tensor DropoutMasks(double rate, long batch, long dim, ScalarType dtype) =>
        _random.DropoutMask([DropoutMaskCount, batch, dim], rate, dtype);

    /// <summary>
    /// <c>v · kernel</c> where each of the <paramref name="gates"/> column blocks sees <c>v</c>
    /// multiplied by its own mask (or all blocks by one shared mask); plain product without masks.
    /// </summary>
    private protected static Tensor MaskedProduct(Tensor v, Tensor kernel, Tensor? masks, int gates)
    {
        if (masks is null)
            return v.matmul(kernel);
        if (masks.shape[0] == 1)
            return (v * masks[0]).matmul(kernel);
        var blocks = kernel.chunk(gates, 1);
        return torch.cat(blocks.Select((block, g) => (v * masks[g]).matmul(block)).ToArray(), 1);
    }

    /// <summary><c>v</c> times the mask of gate <paramref name="gate"/> (or the shared mask); <c>v</c> itself without masks.</summary>
    private protected static Tensor Masked(Tensor v, Tensor? masks, int gate) =>
        masks is null ? v : v * masks[masks.shape[0] == 1 ? 0 : gate];

    /// <summary>The number of state tensors, each <c>(batch, units)</c>: 1 for SimpleRNN, 2 (h, c) for LSTM.</summary>
    public abstract int StateCount { get; }

    /// <summary>The weights in Keras's order.</summary>
    public IReadOnlyList<Parameter> Weights => _weights;

    /// <summary>Whether <see cref="RunFused(Tensor, Tensor[])"/> supports this cell's configuration.</summary>
    public abstract bool CanFuse { get; }

    /// <summary>
    /// Whether <see cref="RunFused(Tensor, Tensor[], RecurrentExtras)"/> takes padding masks and
    /// per-gate dropout masks in this process (its kernel needs LibTorch's BLAS called directly).
    /// </summary>
    internal virtual bool FusesMasksAndDropout => false;

    /// <summary>Creates the weights for inputs with <paramref name="inputDim"/> features.</summary>
    internal abstract void Build(long inputDim, ScalarType dtype);

    /// <summary>
    /// One time step, op by op: <paramref name="x"/> is <c>(batch, features)</c>; returns the new
    /// states, the first of which is the output <c>h_t</c>.
    /// </summary>
    /// <param name="x">The step's input <c>(batch, features)</c>.</param>
    /// <param name="states">The previous states, each <c>(batch, units)</c>.</param>
    /// <param name="inputMasks">Dropout masks for the input, <c>(1 or gates, batch, features)</c>, or null.</param>
    /// <param name="recurrentMasks">Dropout masks for the previous output, <c>(1 or gates, batch, units)</c>, or null.</param>
    public abstract Tensor[] Step(Tensor x, Tensor[] states, Tensor? inputMasks = null, Tensor? recurrentMasks = null);

    /// <summary>
    /// <see cref="Step"/> without dropout, also storing the step's gate activations
    /// <c>(batch, units)</c> in <paramref name="gates"/> by name (LSTM: input, forget, candidate,
    /// output; GRU: update, reset, candidate; SimpleRNN has none), for
    /// <see cref="Interpretability.ActivationRecorder"/>.
    /// </summary>
    internal abstract Tensor[] StepWithGates(Tensor x, Tensor[] states, IDictionary<string, Tensor> gates);

    /// <summary>
    /// The whole sequence in one fused autograd function. <paramref name="x"/> is
    /// <c>(batch, timesteps, features)</c>; returns every output, time-major
    /// <c>(timesteps, batch, units)</c>, and the final states.
    /// </summary>
    public (Tensor Outputs, Tensor[] FinalStates) RunFused(Tensor x, Tensor[] states) => RunFused(x, states, RecurrentExtras.None);

    /// <summary>
    /// <see cref="RunFused(Tensor, Tensor[])"/> with Keras's padding mask and per-gate dropout masks:
    /// at a masked step a sample's states are carried over unchanged (the outputs returned are the
    /// states; <see cref="Rnn"/> turns them into Keras's masked outputs).
    /// </summary>
    internal abstract (Tensor Outputs, Tensor[] FinalStates) RunFused(Tensor x, Tensor[] states, RecurrentExtras extras);

    /// <summary>Whether the fused call must record an autograd node: gradients are on and some input or weight wants one.</summary>
    private protected bool NeedsGradient(Tensor x, Tensor[] states) =>
        torch.is_grad_enabled() && (x.requires_grad || states.Any(s => s.requires_grad) || _weights.Any(w => w.requires_grad));

    /// <summary>The cell's constructor arguments by their Keras names (the dropout keys are added by <see cref="Rnn"/>).</summary>
    public abstract Dictionary<string, object?> GetConfig();

    /// <summary>Registers a weight created by <see cref="Layer.CreateWeight"/>.</summary>
    private protected Parameter AddWeight(string name, long[] shape, Initializers.Initializer initializer, ScalarType dtype)
    {
        var weight = Layer.CreateWeight(shape, initializer, dtype);
        register_parameter(name, weight);
        _weights.Add(weight);
        return weight;
    }

    /// <summary>Adopts an already created weight (for weights assembled from parts, such as LSTM's bias).</summary>
    private protected Parameter AddWeight(string name, Parameter weight)
    {
        register_parameter(name, weight);
        _weights.Add(weight);
        return weight;
    }
}
