using static TorchSharp.torch;

namespace SeqSharp.Layers;

public abstract partial class Rnn
{
    /// <summary>
    /// Calls the layer on a symbolic tensor, optionally starting from given states (Keras's
    /// <c>layer(x, initial_state=[h, c])</c>): an encoder's final states start a decoder.
    /// </summary>
    /// <param name="input">The input <c>(batch, timesteps, features)</c>.</param>
    /// <param name="initialState">The initial states, each <c>(batch, units)</c> (LSTM: h then c), or null for zeros.</param>
    /// <returns>The output; with <c>returnState</c>, deconstructible into the output and the final states.</returns>
    /// <exception cref="ArgumentException">The input or the states do not fit the layer.</exception>
    /// <example>
    /// <code>
    /// var (_, stateH, stateC) = new LSTM(64, returnState: true).Apply(encoderInputs);
    /// var decoded = new LSTM(64, returnSequences: true).Apply(decoderInputs, initialState: [stateH, stateC]);
    /// </code>
    /// </example>
    public KerasTensor Apply(KerasTensor input, IReadOnlyList<KerasTensor>? initialState = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (initialState is null || initialState.Count == 0)
            return base.Apply(input);
        return Record([input, .. initialState], 1, new Dictionary<string, object?>());
    }

    internal override IReadOnlyList<long[]> SymbolicOutputShapes(IReadOnlyList<long[]> inputShapes, int mainInputs, IReadOnlyDictionary<string, object?> callArgs)
    {
        var shape = inputShapes[0];
        InputSpec.Check(Name, [-1, .. shape]);
        if (!Built)
            Build(shape);
        int states = inputShapes.Count - 1;
        if (states > 0)
        {
            if (states != Cell.StateCount || inputShapes.Skip(1).Any(s => !s.SequenceEqual([(long)Units])))
                throw new ArgumentException(
                    $"it expects {Cell.StateCount} initial state(s) of shape (None, {Units}){(Cell.StateCount == 2 ? " (h, then c)" : "")}. " +
                    $"Received: {string.Join(", ", inputShapes.Skip(1).Select(ShapeText.WithBatch))}.");
        }
        var output = ComputeOutputShape(shape);
        return ReturnState ? [output, .. Enumerable.Range(0, Cell.StateCount).Select(_ => new[] { (long)Units })] : [output];
    }

    internal override (IReadOnlyList<Tensor> Outputs, Tensor? Mask) CallNode(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, int mainInputs,
        IReadOnlyDictionary<string, object?> callArgs)
    {
        if (!ReturnState && inputs.Count == 1)
            return base.CallNode(inputs, masks, mainInputs, callArgs);
        var (output, states) = CallWithState(inputs[0], masks[0], inputs.Count > 1 ? inputs.Skip(1).ToList() : null);
        return (ReturnState ? [output, .. states] : [output], OutputMask(inputs[0], masks[0]));
    }
}
