using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// The loop over time shared by recurrent layers (Keras <c>RNN</c>): zero initial states,
/// <c>goBackwards</c>, <c>returnSequences</c>; the cell supplies the equations.
/// </summary>
/// <remarks>
/// Input <c>(batch, timesteps, features)</c>; output <c>(batch, timesteps, units)</c> with
/// <see cref="ReturnSequences"/>, else the last output <c>(batch, units)</c>. With
/// <see cref="GoBackwards"/> the sequence is processed from its last step to its first and, as in
/// Keras, the returned sequence is in processing order.
/// </remarks>
public abstract class Rnn : Layer
{
    /// <summary>Creates the layer around its cell.</summary>
    protected Rnn(RecurrentCell cell, bool returnSequences, bool goBackwards, long[]? inputShape, string? name, ScalarType? dtype)
        : base(name, inputShape, dtype)
    {
        Cell = cell;
        ReturnSequences = returnSequences;
        GoBackwards = goBackwards;
        register_module("cell", cell);
    }

    /// <summary>The cell: its weights and equations.</summary>
    public RecurrentCell Cell { get; }

    /// <summary>Size of the hidden state.</summary>
    public int Units => Cell.Units;

    /// <summary>Whether the output is the whole sequence of hidden states or only the last.</summary>
    public bool ReturnSequences { get; }

    /// <summary>Whether the input sequence is processed backwards.</summary>
    public bool GoBackwards { get; }

    /// <summary>Which implementation runs; <see cref="RecurrentImplementation.Auto"/> by default.</summary>
    public RecurrentImplementation Implementation { get; set; } = RecurrentImplementation.Auto;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Weights => Cell.Weights;

    /// <inheritdoc />
    public override InputSpec InputSpec => BuiltInputShape is null
        ? new InputSpec(Rank: 3)
        : new InputSpec(Rank: 3, Axes: new Dictionary<int, long> { [-1] = BuiltInputShape[^1] });

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape) => Cell.Build(sampleShape[^1], DType);

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape) =>
        ReturnSequences ? [sampleShape[0], Units] : [Units];

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        long batch = x.shape[0], steps = x.shape[1];
        if (steps == 0)
            throw new ArgumentException($"Layer '{Name}' needs at least one time step. Received input of shape {ShapeText.Format(x.shape)}.", nameof(x));
        if (GoBackwards)
            x = x.flip(1);
        var states = Enumerable.Range(0, Cell.StateCount)
            .Select(_ => torch.zeros(new[] { batch, (long)Units }, DType))
            .ToArray();
        var (outputs, _) = RunCell(x, states);
        return ReturnSequences ? outputs.transpose(0, 1) : outputs[steps - 1];
    }

    /// <summary>Runs the chosen implementation; returns time-major outputs and the final states.</summary>
    private (Tensor Outputs, Tensor[] FinalStates) RunCell(Tensor x, Tensor[] states)
    {
        bool fused = Implementation switch
        {
            RecurrentImplementation.Fused => Cell.CanFuse ? true : throw new InvalidOperationException(
                $"Layer '{Name}' cannot use the fused kernel with this configuration; use RecurrentImplementation.Auto or OpByOp."),
            RecurrentImplementation.OpByOp => false,
            _ => Cell.CanFuse,
        };
        if (fused)
            return Cell.RunFused(x, states);

        long steps = x.shape[1];
        var outputs = new Tensor[steps];
        for (long t = 0; t < steps; t++)
        {
            states = Cell.Step(x.select(1, t), states);
            outputs[t] = states[0];
        }
        return (torch.stack(outputs, 0), states);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        foreach (var (key, value) in Cell.GetConfig())
            config[key] = value;
        config["return_sequences"] = ReturnSequences;
        config["return_state"] = false;
        config["go_backwards"] = GoBackwards;
        config["stateful"] = false;
        config["unroll"] = false;
        return config;
    }
}
