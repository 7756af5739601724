using static TorchSharp.torch;

namespace SeqSharp.Interpretability;

/// <summary>
/// What one recurrent layer computed for a batch: its hidden states, its cell states (LSTM) and
/// its gate activations at every time step, as recorded by <see cref="ActivationRecorder.Record(Sequential, Tensor)"/>.
/// </summary>
/// <remarks>
/// <para>Every tensor is <c>(batch, timesteps, units)</c> in the model's element type, and index
/// <c>t</c> of the time axis always refers to <b>input step t</b>, also for a layer with
/// <c>goBackwards</c> (which processes step <c>timesteps - 1</c> first): a recording lines up with
/// the input and with the attributions of <see cref="Attributions"/>. For such a layer the
/// recurrence runs from high to low indices (<c>c_t</c> follows from <c>c_{t+1}</c>), and
/// <c>Hidden.flip(1)</c> is the sequence the layer itself returns (Keras returns it in processing
/// order).</para>
/// <para>The recording owns its tensors: dispose it (or them) when done.</para>
/// </remarks>
public sealed class LayerRecording : IDisposable
{
    internal LayerRecording(int layerIndex, string layerName, string className, bool goBackwards, Tensor hidden, Tensor? cell,
        IReadOnlyDictionary<string, Tensor> gates)
    {
        LayerIndex = layerIndex;
        LayerName = layerName;
        ClassName = className;
        GoBackwards = goBackwards;
        Hidden = hidden;
        Cell = cell;
        Gates = gates;
    }

    /// <summary>
    /// The position of the layer in <see cref="Sequential.Layers"/>; for the two directions of a
    /// <c>Bidirectional</c> layer, the wrapper's position (both recordings share it).
    /// </summary>
    public int LayerIndex { get; }

    /// <summary>The recurrent layer's name, e.g. <c>"lstm"</c>; inside <c>Bidirectional</c>, <c>"forward_lstm"</c> or <c>"backward_lstm"</c>.</summary>
    public string LayerName { get; }

    /// <summary>The recurrent layer's class: <c>"SimpleRNN"</c>, <c>"LSTM"</c> or <c>"GRU"</c>.</summary>
    public string ClassName { get; }

    /// <summary>Whether the layer processed the sequence from its last step (see the remarks on time order).</summary>
    public bool GoBackwards { get; }

    /// <summary>The hidden state (the layer's output) <c>h_t</c> after each input step, <c>(batch, timesteps, units)</c>.</summary>
    public Tensor Hidden { get; }

    /// <summary>The LSTM cell state <c>c_t</c>, <c>(batch, timesteps, units)</c>; null for SimpleRNN and GRU.</summary>
    public Tensor? Cell { get; }

    /// <summary>
    /// The gate activations, each <c>(batch, timesteps, units)</c>: LSTM <c>"input"</c> (i),
    /// <c>"forget"</c> (f), <c>"candidate"</c> (g, the activated cell input) and <c>"output"</c> (o);
    /// GRU <c>"update"</c> (z), <c>"reset"</c> (r) and <c>"candidate"</c> (n); none for SimpleRNN.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Gates { get; }

    /// <summary>Disposes the recorded tensors.</summary>
    public void Dispose()
    {
        Hidden.Dispose();
        Cell?.Dispose();
        foreach (var gate in Gates.Values)
            gate.Dispose();
    }
}
