using TorchSharp;
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
/// fused kernel does not cover), and <see cref="RunFused"/>, the whole sequence in one custom
/// autograd function with a hand-written backward-through-time.
/// </remarks>
public abstract class RecurrentCell : nn.Module
{
    private readonly List<Parameter> _weights = [];

    /// <summary>Creates the cell.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> is not positive.</exception>
    protected RecurrentCell(string name, int units) : base(name)
    {
        if (units <= 0)
            throw new ArgumentOutOfRangeException(nameof(units), units, $"Expected a positive integer for units. Received: units={units}.");
        Units = units;
    }

    /// <summary>Size of the hidden state (and of the output).</summary>
    public int Units { get; }

    /// <summary>The number of state tensors, each <c>(batch, units)</c>: 1 for SimpleRNN, 2 (h, c) for LSTM.</summary>
    public abstract int StateCount { get; }

    /// <summary>The weights in Keras's order.</summary>
    public IReadOnlyList<Parameter> Weights => _weights;

    /// <summary>Whether <see cref="RunFused"/> supports this cell's configuration.</summary>
    public abstract bool CanFuse { get; }

    /// <summary>Creates the weights for inputs with <paramref name="inputDim"/> features.</summary>
    internal abstract void Build(long inputDim, ScalarType dtype);

    /// <summary>
    /// One time step, op by op: <paramref name="x"/> is <c>(batch, features)</c>; returns the new
    /// states, the first of which is the output <c>h_t</c>.
    /// </summary>
    public abstract Tensor[] Step(Tensor x, Tensor[] states);

    /// <summary>
    /// The whole sequence in one fused autograd function. <paramref name="x"/> is
    /// <c>(batch, timesteps, features)</c>; returns every output, time-major
    /// <c>(timesteps, batch, units)</c>, and the final states.
    /// </summary>
    public abstract (Tensor Outputs, Tensor[] FinalStates) RunFused(Tensor x, Tensor[] states);

    /// <summary>Whether the fused call must record an autograd node: gradients are on and some input or weight wants one.</summary>
    private protected bool NeedsGradient(Tensor x, Tensor[] states) =>
        torch.is_grad_enabled() && (x.requires_grad || states.Any(s => s.requires_grad) || _weights.Any(w => w.requires_grad));

    /// <summary>The cell's constructor arguments by their Keras names.</summary>
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
