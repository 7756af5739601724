using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Runs a recurrent layer over the sequence in both directions and merges the two outputs (Keras
/// <c>Bidirectional</c>), so that every position sees its past and its future.
/// </summary>
/// <remarks>
/// <para>As in Keras, the wrapper does not reuse the given layer's weights: it creates
/// <see cref="ForwardLayer"/> (named <c>forward_…</c>) and <see cref="BackwardLayer"/> (named
/// <c>backward_…</c>, <c>goBackwards</c> flipped) from the layer's config. The backward output
/// sequence, produced in reverse, is flipped back so that position t of both halves refers to
/// input step t. Merge modes: <c>"concat"</c> (last axis doubled), <c>"sum"</c>, <c>"mul"</c>,
/// <c>"ave"</c>.</para>
/// <para>Masks go to both layers; with <c>returnSequences</c> masked steps output zeros
/// (Keras forces <c>zero_output_for_mask</c>) and the mask is passed on.</para>
/// <para>Weights (Keras order): the forward layer's, then the backward layer's.</para>
/// </remarks>
/// <example>
/// <code>
/// model.Add(new Embedding(5000, 32, maskZero: true, inputShape: [40]));
/// model.Add(new Bidirectional(new LSTM(32)));      // (batch, 64)
/// model.Add(new Dense(1, activation: "sigmoid"));
/// </code>
/// </example>
public sealed class Bidirectional : Layer
{
    private static readonly string[] MergeModes = ["sum", "mul", "ave", "concat"];

    /// <summary>Creates the wrapper.</summary>
    /// <param name="layer">The recurrent layer (SimpleRNN, LSTM, GRU) whose config both directions copy.</param>
    /// <param name="mergeMode"><c>"concat"</c> (default), <c>"sum"</c>, <c>"mul"</c> or <c>"ave"</c>.</param>
    /// <param name="backwardLayer">A layer to use as is for the backward direction, instead of a copy; it must have the other <c>goBackwards</c> and the same <c>stateful</c>, <c>returnSequences</c> and <c>returnState</c>.</param>
    /// <param name="inputShape">Sample shape <c>(timesteps, features)</c> when this is the first layer; default the layer's own.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <exception cref="ArgumentException">An unknown merge mode, or a backward layer that does not match.</exception>
    public Bidirectional(Rnn layer, string mergeMode = "concat", Rnn? backwardLayer = null, long?[]? inputShape = null, string? name = null)
        : base(name, inputShape ?? layer?.InputShape?.Select(d => (long?)d).ToArray(), (layer ?? throw new ArgumentNullException(nameof(layer))).DType)
    {
        if (mergeMode is null || !MergeModes.Contains(mergeMode))
            throw new ArgumentException(
                $"Invalid merge mode. Received: {mergeMode ?? "null"}. Merge mode should be one of \"sum\", \"mul\", \"ave\", \"concat\" " +
                "(Keras's None, two separate outputs, does not fit a Sequential model).", nameof(mergeMode));
        MergeMode = mergeMode;
        ForwardLayer = Copy(layer, "forward_", layer.GoBackwards);
        BackwardLayer = backwardLayer ?? Copy(layer, "backward_", !layer.GoBackwards);
        Verify(ForwardLayer, BackwardLayer);
        // Keras: masked steps output zeros in both directions when sequences are returned.
        ForwardLayer.ZeroOutputForMask = ForwardLayer.ReturnSequences;
        BackwardLayer.ZeroOutputForMask = BackwardLayer.ReturnSequences;
        register_module("forward_layer", ForwardLayer);
        register_module("backward_layer", BackwardLayer);
    }

    /// <summary>The layer reading the sequence in the given layer's direction.</summary>
    public Rnn ForwardLayer { get; }

    /// <summary>The layer reading it the other way.</summary>
    public Rnn BackwardLayer { get; }

    /// <summary>How the two outputs are merged.</summary>
    public string MergeMode { get; }

    /// <summary>Whether every step's output is returned.</summary>
    public bool ReturnSequences => ForwardLayer.ReturnSequences;

    /// <summary>Whether the layers are used for their final states too (see <see cref="CallWithState"/>).</summary>
    public bool ReturnState => ForwardLayer.ReturnState;

    /// <summary>Whether both layers carry their states from call to call.</summary>
    public bool Stateful => ForwardLayer.Stateful;

    /// <inheritdoc />
    protected internal override IReadOnlyList<Layer> WrappedLayers => [ForwardLayer, BackwardLayer];

    /// <inheritdoc />
    public override InputSpec InputSpec => ForwardLayer.InputSpec;

    /// <inheritdoc />
    protected internal override bool ReturnsStates => ReturnState;

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape)
    {
        ForwardLayer.Build(sampleShape);
        BackwardLayer.Build(sampleShape);
    }

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape)
    {
        var shape = ForwardLayer.ComputeOutputShape(sampleShape);
        if (MergeMode == "concat")
            shape[^1] *= 2;
        return shape;
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => Run(x, null).Output;

    /// <inheritdoc />
    protected override Tensor ForwardMasked(Tensor x, Tensor mask) => Run(x, mask).Output;

    /// <summary>The mask with returnSequences, else none.</summary>
    protected internal override Tensor? ComputeMask(Tensor input, Tensor? mask) => ReturnSequences ? mask : null;

    /// <summary>
    /// Runs both directions and returns the merged output with the final states: the forward
    /// layer's, then the backward layer's (Keras's <c>return_state</c> output).
    /// </summary>
    /// <param name="x">The input <c>(batch, timesteps, features)</c>.</param>
    /// <param name="mask">A <c>(batch, timesteps)</c> mask, or null.</param>
    /// <exception cref="ArgumentException">The input or mask does not fit.</exception>
    public (Tensor Output, IReadOnlyList<Tensor> States) CallWithState(Tensor x, Tensor? mask = null)
    {
        var input = PrepareInput(x, ref mask);
        return Run(input, mask);
    }

    /// <summary>Resets both layers' carried states (Keras <c>reset_state</c>).</summary>
    /// <exception cref="InvalidOperationException">The layers are not stateful.</exception>
    public void ResetStates()
    {
        if (!Stateful)
            throw new InvalidOperationException($"Layer '{Name}' must be stateful to reset its states.");
        ForwardLayer.ResetStates();
        BackwardLayer.ResetStates();
    }

    private (Tensor Output, IReadOnlyList<Tensor> States) Run(Tensor x, Tensor? mask)
    {
        var ((y, forwardStates), (yReversed, backwardStates)) = DirectionsAtOnce(x)
            ? ConcurrentDirections.Run(() => ForwardLayer.CallWithState(x, mask), () => BackwardLayer.CallWithState(x, mask))
            : (ForwardLayer.CallWithState(x, mask), BackwardLayer.CallWithState(x, mask));
        return (Merge(y, yReversed), forwardStates.Concat(backwardStates).ToList());
    }

    /// <summary>
    /// Whether the two directions run at the same time, one per core (<see cref="ConcurrentDirections"/>):
    /// when a direction alone would leave a core idle, because its kernel runs the batch as one slice
    /// (one sample, or too little work to split: <see cref="Kernels.BatchParallel.Slices"/>); larger
    /// calls already use every core through their batch slices, one direction after the other. Only
    /// on the CPU with two or more threads, once both layers are built, and when the call draws no
    /// dropout masks (layers without a seed draw from the global generator, in the serial order).
    /// </summary>
    private bool DirectionsAtOnce(Tensor x)
    {
        if (!ConcurrentDirections.Enabled || torch.get_num_threads() < 2 || x.device_type != DeviceType.CPU || x.dim() != 3)
            return false;
        if (!ForwardLayer.Built || !BackwardLayer.Built || DrawsDropout(ForwardLayer) || DrawsDropout(BackwardLayer))
            return false;
        long batch = x.shape[0], steps = x.shape[1];
        int Slices(Rnn layer) => Kernels.BatchParallel.Slices((int)Math.Min(batch, int.MaxValue), batch * steps * layer.Units);
        return Slices(ForwardLayer) == 1 && Slices(BackwardLayer) == 1;
    }

    private static bool DrawsDropout(Rnn layer) => layer.training && (layer.Cell.Dropout > 0 || layer.Cell.RecurrentDropout > 0);

    /// <summary>
    /// The merged output from the two layers' outputs as they return them: the backward layer's
    /// sequence (processing order) is flipped back to input order first.
    /// </summary>
    internal Tensor Merge(Tensor y, Tensor yReversed)
    {
        if (ReturnSequences)
            yReversed = yReversed.flip(1);
        return MergeMode switch
        {
            "concat" => torch.cat([y, yReversed], -1),
            "sum" => y + yReversed,
            "mul" => y * yReversed,
            _ => (y + yReversed) / 2,
        };
    }

    /// <summary>A fresh layer from <paramref name="layer"/>'s config, renamed as Keras does.</summary>
    private static Rnn Copy(Rnn layer, string prefix, bool goBackwards)
    {
        var config = layer.GetConfig();
        string baseName = layer.Name.StartsWith(prefix, StringComparison.Ordinal) ? layer.Name[prefix.Length..] : layer.Name;
        config["name"] = prefix + baseName;
        config["go_backwards"] = goBackwards;
        return (Rnn)FromConfig(layer.ClassName, config);
    }

    private static void Verify(Rnn forward, Rnn backward)
    {
        if (forward.GoBackwards == backward.GoBackwards)
            throw new ArgumentException(
                "Forward layer and backward layer should have different goBackwards values. " +
                $"Received: forward layer goBackwards={forward.GoBackwards}, backward layer goBackwards={backward.GoBackwards}.", "backwardLayer");
        foreach (var (attribute, f, b) in new[]
                 {
                     ("stateful", forward.Stateful, backward.Stateful),
                     ("returnSequences", forward.ReturnSequences, backward.ReturnSequences),
                     ("returnState", forward.ReturnState, backward.ReturnState),
                 })
        {
            if (f != b)
                throw new ArgumentException(
                    $"Forward layer and backward layer are expected to have the same value for \"{attribute}\". Received: {f} for the forward layer and {b} for the backward layer.",
                    "backwardLayer");
        }
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["merge_mode"] = MergeMode;
        config["layer"] = TimeDistributed.Serialize(ForwardLayer);
        config["backward_layer"] = TimeDistributed.Serialize(BackwardLayer);
        return config;
    }

    internal static Bidirectional FromConfig(LayerConfig c)
    {
        var layer = c.Layer("layer") as Rnn ?? throw new ArgumentException("Layer config for 'Bidirectional' needs a recurrent 'layer' (SimpleRNN, LSTM or GRU).");
        var backward = c.Layer("backward_layer");
        if (backward is not null and not Rnn)
            throw new ArgumentException($"Layer config for 'Bidirectional' needs a recurrent 'backward_layer'. Received: {backward.ClassName}.");
        return new(layer, c.String("merge_mode", "concat"), (Rnn?)backward, c.InputShape, c.Name);
    }

    internal override IReadOnlyList<long[]> SymbolicOutputShapes(IReadOnlyList<long[]> inputShapes, int mainInputs, IReadOnlyDictionary<string, object?> callArgs)
    {
        var outputs = base.SymbolicOutputShapes(inputShapes, mainInputs, callArgs);
        if (!ReturnState)
            return outputs;
        int states = ForwardLayer.Cell.StateCount;
        return [outputs[0], .. Enumerable.Range(0, 2 * states).Select(k => new[] { (long)(k < states ? ForwardLayer.Units : BackwardLayer.Units) })];
    }

    internal override (IReadOnlyList<Tensor> Outputs, Tensor? Mask) CallNode(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, int mainInputs,
        IReadOnlyDictionary<string, object?> callArgs)
    {
        if (!ReturnState)
            return base.CallNode(inputs, masks, mainInputs, callArgs);
        var (output, states) = CallWithState(inputs[0], masks[0]);
        return ([output, .. states], OutputMask(inputs[0], masks[0]));
    }
}
