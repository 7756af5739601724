using SeqSharp.Data;
using SeqSharp.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Interpretability;

/// <summary>
/// Records what the recurrent layers of a model compute for a batch: hidden states, LSTM cell
/// states and gate activations at every time step (Keras users get these by building a second
/// model around a cell; here one call does it).
/// </summary>
/// <remarks>
/// <para>The model runs layer by layer without gradients and in inference mode (for its own calls: the
/// model's training flag is not touched). Non-recurrent layers run as usual; each recurrent layer (<c>SimpleRNN</c>,
/// <c>LSTM</c>, <c>GRU</c>, and both directions inside <c>Bidirectional</c>) is stepped through
/// its cell's op-by-op equations (<see cref="RecurrentCell.Step"/>, the reference of the fused
/// kernels) with its own weights, activations and options (peepholes, resetAfter), and its output,
/// assembled from the recorded hidden states, goes on to the next layer. The layers' fused kernels
/// are not touched, and the model is left unchanged.</para>
/// <para>Time order: index t of every recording is input step t, also for <c>goBackwards</c> layers
/// (see <see cref="LayerRecording"/>).</para>
/// <para>Limitations: inputs whose mask (from <c>Masking</c> or <c>Embedding(maskZero: true)</c>)
/// actually masks a step are refused with <see cref="NotSupportedException"/> (a mask that masks
/// nothing is fine). A stateful layer starts from its carried states, which the recording does not
/// advance. Recurrent layers inside <c>TimeDistributed</c> run but are not recorded.</para>
/// </remarks>
/// <example>
/// <code>
/// var recordings = ActivationRecorder.Record(model, xTest);
/// var forget = recordings[0].Gates["forget"];     // (batch, timesteps, units)
/// </code>
/// </example>
public static class ActivationRecorder
{
    /// <summary>Runs <paramref name="model"/> on <paramref name="x"/> and records every recurrent layer.</summary>
    /// <param name="model">The model; built from <paramref name="x"/>'s shape if it is not built yet (as <c>Predict</c> does).</param>
    /// <param name="x">The input <c>(batch, timesteps, features)</c> (or whatever the first layer takes), batch axis first.</param>
    /// <returns>One recording per recurrent layer in model order (two for a <c>Bidirectional</c> layer: forward, then backward).</returns>
    /// <exception cref="ArgumentException">The input does not fit the model (the message names the layer, the expected and the received shape), or has no samples.</exception>
    /// <exception cref="InvalidOperationException">The model has no layers.</exception>
    /// <exception cref="NotSupportedException">A recurrent layer receives a mask that masks some step.</exception>
    public static IReadOnlyList<LayerRecording> Record(Sequential model, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        ModelInput.Check(model, x, nameof(x));
        // Inference mode for these calls only, not by switching the model's shared training flag.
        using (Layers.CallMode.Use(training: false))
        {
            using var scope = torch.NewDisposeScope();
            using var _ = torch.no_grad();
            var recordings = new List<LayerRecording>();
            Tensor? mask = null;
            for (int index = 0; index < model.Layers.Count; index++)
            {
                var layer = model.Layers[index];
                switch (layer)
                {
                    case Rnn rnn:
                    {
                        var (recording, output) = RecordLayer(rnn, index, x, ref mask);
                        recordings.Add(recording);
                        x = output;
                        break;
                    }
                    case Bidirectional bidirectional:
                    {
                        var forwardMask = mask;
                        var (forward, y) = RecordLayer(bidirectional.ForwardLayer, index, x, ref forwardMask);
                        var (backward, yReversed) = RecordLayer(bidirectional.BackwardLayer, index, x, ref mask);
                        recordings.Add(forward);
                        recordings.Add(backward);
                        x = bidirectional.Merge(y, yReversed);
                        break;
                    }
                    default:
                        (x, mask) = layer.CallWithMask(x, mask);
                        break;
                }
            }
            foreach (var recording in recordings)
            {
                recording.Hidden.MoveToOuterDisposeScope();
                recording.Cell?.MoveToOuterDisposeScope();
                foreach (var gate in recording.Gates.Values)
                    gate.MoveToOuterDisposeScope();
            }
            return recordings;
        }
    }

    /// <summary>Records a model's recurrent layers for a rectangular <c>float</c> or <c>double</c> array, such as <c>float[samples, timesteps, features]</c>.</summary>
    /// <inheritdoc cref="Record(Sequential, Tensor)"/>
    public static IReadOnlyList<LayerRecording> Record(Sequential model, Array x)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var input = TensorData.FromArray(x, nameof(x));
        return Record(model, input);
    }

    /// <summary>
    /// Steps one recurrent layer through its cell and returns the recording (input time order) and
    /// the layer's output as the layer itself returns it. The mask becomes the layer's output mask.
    /// </summary>
    private static (LayerRecording Recording, Tensor Output) RecordLayer(Rnn layer, int index, Tensor x, ref Tensor? mask)
    {
        layer.InputSpec.Check(layer.Name, x.shape);
        if (!layer.Built)
            layer.Build(x.shape[1..]);
        if (x.dtype != layer.DType)
            x = x.to_type(layer.DType);
        if (mask is not null && !mask.ne(0).all().item<bool>())
            throw new NotSupportedException(
                $"Layer '{layer.Name}' receives a mask that masks some time steps; recording masked sequences is not supported. " +
                "Record unpadded sequences (e.g. one length at a time) or a model without Masking/maskZero.");
        long batch = x.shape[0], steps = x.shape[1];
        if (steps == 0)
            throw new ArgumentException($"Layer '{layer.Name}' needs at least one time step. Received input of shape {ShapeText.Format(x.shape)}.", nameof(x));

        var states = InitialStates(layer, batch);
        var hidden = new Tensor[steps];
        var cell = layer.Cell.StateCount == 2 ? new Tensor[steps] : null;
        var gates = new Dictionary<string, Tensor[]>();
        for (long k = 0; k < steps; k++)
        {
            long t = layer.GoBackwards ? steps - 1 - k : k;
            var stepGates = new Dictionary<string, Tensor>();
            states = layer.Cell.StepWithGates(x.select(1, t), states, stepGates);
            hidden[t] = states[0];
            if (cell is not null)
                cell[t] = states[1];
            foreach (var (name, value) in stepGates)
            {
                if (!gates.TryGetValue(name, out var values))
                    gates[name] = values = new Tensor[steps];
                values[t] = value;
            }
        }

        var recording = new LayerRecording(index, layer.Name, layer.ClassName, layer.GoBackwards,
            torch.stack(hidden, 1), cell is null ? null : torch.stack(cell, 1),
            gates.ToDictionary(g => g.Key, g => torch.stack(g.Value, 1)));
        // The layer's own output: the sequence in processing order (Keras), or the last processed step.
        var output = layer.ReturnSequences
            ? (layer.GoBackwards ? recording.Hidden.flip(1) : recording.Hidden)
            : hidden[layer.GoBackwards ? 0 : steps - 1];
        if (!layer.ReturnSequences)
            mask = null;
        return (recording, output);
    }

    private static Tensor[] InitialStates(Rnn layer, long batch)
    {
        // Zeros always fit; a stateful layer's carried states (no copy made) must match the batch.
        var states = layer.StartStates(batch);
        if (states[0].shape[0] != batch)
            throw new ArgumentException(
                $"Layer '{layer.Name}' is stateful with batch size {states[0].shape[0]}. Received a batch of {batch}.", "x");
        return states;
    }
}
