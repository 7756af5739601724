using SeqSharp.Layers.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// The loop over time shared by recurrent layers (Keras <c>RNN</c>): initial and stateful states,
/// <c>goBackwards</c>, <c>returnSequences</c>, <c>returnState</c>, masking and dropout masks; the
/// cell supplies the equations.
/// </summary>
/// <remarks>
/// <para>Input <c>(batch, timesteps, features)</c>; output <c>(batch, timesteps, units)</c> with
/// <see cref="ReturnSequences"/>, else the last output <c>(batch, units)</c>. With
/// <see cref="GoBackwards"/> the sequence is processed from its last step to its first and, as in
/// Keras, the returned sequence is in processing order.</para>
/// <para>Masking (Keras semantics): at a masked step the states are carried over unchanged and the
/// output repeats the previous step's output (zeros before the first unmasked step), or is zero
/// with <see cref="ZeroOutputForMask"/>. The output mask is the input mask with
/// <see cref="ReturnSequences"/>, else none.</para>
/// <para>Which implementation runs: the cell's fused kernel when its activations allow it, with
/// masks and recurrent dropout inside the kernel (where LibTorch's BLAS can be called directly, as
/// on x86-64 Linux; elsewhere such calls run the op-by-op loop, <see cref="RecurrentCell.Step"/>).
/// A single input dropout mask is applied to the whole sequence before the kernel; the per-gate
/// masks Keras draws with recurrent dropout are applied inside it.</para>
/// </remarks>
public abstract partial class Rnn : Layer
{
    private readonly int? _declaredBatchSize;
    private Tensor[]? _states;

    /// <summary>Creates the layer around its cell.</summary>
    /// <param name="cell">The cell: weights and equations.</param>
    /// <param name="returnSequences">Return every step's output rather than the last.</param>
    /// <param name="returnState">Whether the layer is meant to return its final states too (see <see cref="CallWithState"/>).</param>
    /// <param name="goBackwards">Process the sequence from its end.</param>
    /// <param name="stateful">Carry the final states of a call over as the initial states of the next.</param>
    /// <param name="zeroOutputForMask">Output zeros at masked steps instead of repeating the previous output.</param>
    /// <param name="inputShape">Sample shape <c>(timesteps, features)</c> when this is the first layer.</param>
    /// <param name="batchSize">The fixed batch size of a stateful layer; null to take it from the first call.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    protected Rnn(RecurrentCell cell, bool returnSequences, bool returnState, bool goBackwards, bool stateful, bool zeroOutputForMask,
        long?[]? inputShape, int? batchSize, string? name, ScalarType? dtype)
        : base(name, inputShape, dtype)
    {
        if (batchSize is <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Expected a positive batch size. Received: batchSize={batchSize}.");
        Cell = cell;
        cell.LayerName = Name;
        ReturnSequences = returnSequences;
        ReturnState = returnState;
        GoBackwards = goBackwards;
        Stateful = stateful;
        ZeroOutputForMask = zeroOutputForMask;
        _declaredBatchSize = batchSize;
        BatchSize = batchSize;
        register_module("cell", cell);
    }

    /// <summary>The cell: its weights and equations.</summary>
    public RecurrentCell Cell { get; }

    private protected override IReadOnlyDictionary<string, string> RegularizableWeights { get; } =
        new Dictionary<string, string> { ["kernel"] = "kernel", ["recurrent"] = "recurrent_kernel", ["bias"] = "bias" };

    /// <summary>Sets the weight penalties and constraints that the recurrent layers' constructors take.</summary>
    private protected void SetRules(Regularizers.Regularizer? kernelRegularizer, Regularizers.Regularizer? recurrentRegularizer,
        Regularizers.Regularizer? biasRegularizer, Regularizers.Regularizer? activityRegularizer,
        Constraints.Constraint? kernelConstraint, Constraints.Constraint? recurrentConstraint, Constraints.Constraint? biasConstraint)
    {
        SetWeightRules("kernel", kernelRegularizer, kernelConstraint);
        SetWeightRules("recurrent", recurrentRegularizer, recurrentConstraint);
        SetWeightRules("bias", biasRegularizer, biasConstraint);
        ActivityRegularizer = activityRegularizer;
    }

    /// <summary>Size of the hidden state.</summary>
    public int Units => Cell.Units;

    /// <summary>Whether the output is the whole sequence of hidden states or only the last.</summary>
    public bool ReturnSequences { get; }

    /// <summary>
    /// Keras <c>return_state</c>: the layer is used for its final states too. Get them with
    /// <see cref="CallWithState"/>; <see cref="Layer.Call"/> returns the output only, and a
    /// <see cref="Sequential"/> model refuses the layer.
    /// </summary>
    public bool ReturnState { get; }

    /// <summary>Whether the input sequence is processed backwards.</summary>
    public bool GoBackwards { get; }

    /// <summary>
    /// Keras <c>stateful</c>: sample <c>i</c> of a call starts from the final states of sample
    /// <c>i</c> of the previous call. Every call must then have <see cref="BatchSize"/> samples, and
    /// training needs <c>shuffle: false</c> so that consecutive batches continue each other (Keras
    /// requires the same). Gradients do not flow from one call into the previous (truncated
    /// backpropagation through time). <see cref="ResetStates"/> starts again from zeros.
    /// </summary>
    public bool Stateful { get; }

    /// <summary>The fixed batch size of a stateful layer: given to the constructor or taken from the first call; null before.</summary>
    public int? BatchSize { get; private set; }

    /// <summary>Whether masked steps output zeros (Keras <c>zero_output_for_mask</c>; <see cref="Bidirectional"/> sets it with returnSequences) rather than the previous output.</summary>
    public bool ZeroOutputForMask { get; internal set; }

    /// <summary>Which implementation runs; <see cref="RecurrentImplementation.Auto"/> by default.</summary>
    public RecurrentImplementation Implementation { get; set; } = RecurrentImplementation.Auto;

    /// <summary>Copies of the states a stateful layer carries into its next call, or null (not stateful, or never called).</summary>
    public IReadOnlyList<Tensor>? States
    {
        get
        {
            using var _ = torch.no_grad();
            return _states?.Select(s => s.clone()).ToList();
        }
    }

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Weights => Cell.Weights;

    /// <inheritdoc />
    public override InputSpec InputSpec => BuiltInputShape is null
        ? new InputSpec(Rank: 3)
        : new InputSpec(Rank: 3, Axes: new Dictionary<int, long> { [-1] = BuiltInputShape[^1] });

    /// <inheritdoc />
    protected internal override bool ReturnsStates => ReturnState;

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape) => Cell.Build(sampleShape[^1], DType);

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape) =>
        ReturnSequences ? [sampleShape[0], Units] : [Units];

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => Run(x, null, null).Output;

    /// <inheritdoc />
    protected override Tensor ForwardMasked(Tensor x, Tensor mask) => Run(x, mask, null).Output;

    /// <summary>The input mask with <see cref="ReturnSequences"/>, else none (Keras).</summary>
    protected internal override Tensor? ComputeMask(Tensor input, Tensor? mask) => ReturnSequences ? mask : null;

    /// <summary>
    /// Runs the layer and returns its output with its final states (Keras's <c>return_state</c>
    /// output), for use outside <see cref="Sequential"/>, e.g. to start a decoder from an encoder's
    /// states.
    /// </summary>
    /// <param name="x">The input <c>(batch, timesteps, features)</c>.</param>
    /// <param name="mask">A <c>(batch, timesteps)</c> mask of the steps to use, or null.</param>
    /// <param name="initialState">The initial states, each <c>(batch, units)</c> (LSTM: h then c), or null for zeros (or, when stateful, the carried states).</param>
    /// <returns>The output, as <see cref="Layer.Call"/> returns it, and the final states: <c>[h]</c>, or <c>[h, c]</c> for LSTM.</returns>
    /// <exception cref="ArgumentException">The input, mask or initial states do not fit the layer, or a stateful layer gets another batch size.</exception>
    /// <example>
    /// <code>
    /// var encoder = new LSTM(32, returnState: true);
    /// var (_, states) = encoder.CallWithState(source);
    /// var decoded = decoder.CallWithState(target, initialState: states).Output;
    /// </code>
    /// </example>
    public (Tensor Output, IReadOnlyList<Tensor> States) CallWithState(Tensor x, Tensor? mask = null, IReadOnlyList<Tensor>? initialState = null)
    {
        var input = PrepareInput(x, ref mask);
        var (output, states) = Run(input, mask, initialState);
        return (output, states);
    }

    /// <summary>
    /// Sets the carried states of a stateful layer back to zeros (Keras <c>reset_state</c>); does
    /// nothing for a layer that is not stateful or has not been called yet.
    /// </summary>
    public void ResetStates()
    {
        if (_states is null)
            return;
        // New tensors rather than zero_(): a graph not yet back-propagated may still hold the old ones.
        Keep(_states.Select(s => torch.zeros_like(s)).ToArray());
    }

    internal override void ResetStatesCore() => ResetStates();

    /// <summary>The loop over time on a prepared input (built, cast, mask boolean).</summary>
    private (Tensor Output, Tensor[] States) Run(Tensor x, Tensor? mask, IReadOnlyList<Tensor>? initialState)
    {
        long batch = x.shape[0], steps = x.shape[1];
        if (steps == 0)
            throw new ArgumentException($"Layer '{Name}' needs at least one time step. Received input of shape {ShapeText.Format(x.shape)}.", nameof(x));
        if (mask is not null && (mask.dim() != 2 || mask.shape[1] != steps))
            throw new ArgumentException(
                $"Layer '{Name}' expects a mask of shape (batch, timesteps) = [{batch}, {steps}]. Received: mask shape {ShapeText.Format(mask.shape)}.", nameof(mask));
        var states = InitialStates(batch, initialState);

        if (GoBackwards)
        {
            x = x.flip(1);
            mask = mask?.flip(1);
        }
        // A mask that masks nothing changes nothing: such calls keep the fused kernel.
        if (mask is not null && mask.all().item<bool>())
            mask = null;

        // Keras draws the dropout masks once per call and applies them only in training.
        bool inputDropout = training && Cell.Dropout > 0 && Cell.Dropout < 1;
        bool recurrentDropout = training && Cell.RecurrentDropout > 0 && Cell.RecurrentDropout < 1;
        var inputMasks = inputDropout ? Cell.DropoutMasks(Cell.Dropout, batch, x.shape[2], x.dtype) : null;
        var recurrentMasks = recurrentDropout ? Cell.DropoutMasks(Cell.RecurrentDropout, batch, Units, x.dtype) : null;

        var (outputs, finalStates) = UseFused(mask is not null, recurrentMasks is not null)
            ? RunFused(x, states, mask, inputMasks, recurrentMasks)
            : RunOpByOp(x, states, mask, inputMasks, recurrentMasks);

        if (Stateful)
            Keep(finalStates);
        var output = ReturnSequences ? outputs.transpose(0, 1) : outputs[steps - 1];
        return (output, finalStates);
    }

    private Tensor[] InitialStates(long batch, IReadOnlyList<Tensor>? initialState)
    {
        if (Stateful)
        {
            BatchSize ??= checked((int)batch);
            if (batch != BatchSize)
                throw new ArgumentException(
                    $"Layer '{Name}' is stateful with batch size {BatchSize}: every call must have {BatchSize} samples, one per carried state. " +
                    $"Received a batch of {batch}. Pass batchSize equal to the layer's batch size to Fit/Predict, with a sample count divisible by it.");
        }
        if (initialState is not null)
        {
            if (initialState.Count != Cell.StateCount || initialState.Any(s => s is null || !s.shape.SequenceEqual([batch, Units])))
                throw new ArgumentException(
                    $"Layer '{Name}' expects {Cell.StateCount} initial state tensor(s) of shape [{batch}, {Units}]. " +
                    $"Received: {initialState.Count} of shapes {string.Join(", ", initialState.Select(s => s is null ? "null" : ShapeText.Format(s.shape)))}.",
                    nameof(initialState));
            return initialState.Select(s => s.dtype == DType ? s : s.to_type(DType)).ToArray();
        }
        return StartStates(batch);
    }

    /// <summary>
    /// The states a call without <c>initialState</c> starts from: a stateful layer's carried states
    /// (aliases), else zeros <c>(batch, units)</c>. No checks and no side effects.
    /// </summary>
    internal Tensor[] StartStates(long batch) =>
        Stateful && _states is not null
            ? _states.Select(s => s.alias()).ToArray()
            : Enumerable.Range(0, Cell.StateCount).Select(_ => torch.zeros(new[] { batch, (long)Units }, DType)).ToArray();

    /// <summary>Stores the final states of a stateful call, detached (no gradient into past calls) and outside any dispose scope.</summary>
    private void Keep(Tensor[] finalStates)
    {
        var kept = finalStates.Select(s => s.detach().clone().DetachFromDisposeScope()).ToArray();
        if (_states is not null)
        {
            foreach (var old in _states)
                old.Dispose();
        }
        _states = kept;
    }

    private bool UseFused(bool masked, bool recurrentDropout)
    {
        bool extras = masked || recurrentDropout;
        bool possible = Cell.CanFuse && (!extras || Cell.FusesMasksAndDropout);
        return Implementation switch
        {
            RecurrentImplementation.Fused => possible ? true : throw new InvalidOperationException(
                $"Layer '{Name}' cannot use the fused kernel for this call: " +
                (!Cell.CanFuse ? "its activations have no fused form"
                    : $"{(masked ? "the input has a mask" : "recurrent dropout is active in training")}, which the fused kernel supports only with LibTorch's BLAS loaded directly (x86-64 Linux)") +
                ". Use RecurrentImplementation.Auto or OpByOp."),
            RecurrentImplementation.OpByOp => false,
            _ => possible,
        };
    }

    private (Tensor Outputs, Tensor[] FinalStates) RunFused(Tensor x, Tensor[] states, Tensor? mask, Tensor? inputMasks, Tensor? recurrentMasks)
    {
        // One input mask for all gates (no recurrent dropout) is the same at every step: applied to the whole sequence.
        // Per-gate masks (with recurrent dropout, as Keras) go to the kernel.
        if (inputMasks is not null && inputMasks.shape[0] == 1)
        {
            x = x * inputMasks[0].unsqueeze(1);
            inputMasks = null;
        }
        var stepMask = StepMask.From(mask);
        // Samples reordered so that padded steps cost nothing in the kernel's batch slices; restored after.
        var order = stepMask?.BalancedOrder(BatchParallel.Slices((int)x.shape[0], x.shape[0] * x.shape[1] * Units));
        Tensor? index = null;
        if (order is not null)
        {
            index = torch.tensor(order.Select(i => (long)i).ToArray());
            x = x.index_select(0, index);
            states = states.Select(s => s.index_select(0, index)).ToArray();
            inputMasks = inputMasks?.index_select(1, index);
            recurrentMasks = recurrentMasks?.index_select(1, index);
            stepMask = stepMask!.Reordered(order);
        }
        var (sequence, finalStates) = Cell.RunFused(x, states, new RecurrentExtras(stepMask, inputMasks, recurrentMasks));
        if (index is not null)
        {
            var inverse = index.argsort();
            sequence = sequence.index_select(1, inverse);
            finalStates = finalStates.Select(s => s.index_select(0, inverse)).ToArray();
        }
        if (mask is null)
            return (sequence, finalStates);
        // The kernel carries the states over masked steps; Keras's output there is the previous output
        // (so the state, once a step has been used; zeros before) or zeros with zeroOutputForMask.
        var shown = ZeroOutputForMask ? mask : mask.to_type(ScalarType.Int32).cumsum(1).gt(0);
        if (shown.all().item<bool>())
            return (sequence, finalStates);
        return (sequence * shown.t().unsqueeze(2).to_type(sequence.dtype), finalStates);
    }

    /// <summary>
    /// The reference loop over <see cref="RecurrentCell.Step"/>, with Keras's masking: used for
    /// activations without a fused form, for <see cref="RecurrentImplementation.OpByOp"/>, and for
    /// masks and recurrent dropout where the fused kernels cannot call the BLAS directly.
    /// </summary>
    private (Tensor Outputs, Tensor[] FinalStates) RunOpByOp(Tensor x, Tensor[] states, Tensor? mask, Tensor? inputMasks, Tensor? recurrentMasks)
    {
        long steps = x.shape[1];
        var outputs = new Tensor[steps];
        Tensor? previousOutput = null;
        for (long t = 0; t < steps; t++)
        {
            var next = Cell.Step(x.select(1, t), states, inputMasks, recurrentMasks);
            var output = next[0];
            if (mask is not null)
            {
                var keep = mask.select(1, t).unsqueeze(1);
                var fallback = ZeroOutputForMask || previousOutput is null ? torch.zeros_like(output) : previousOutput;
                output = torch.where(keep, output, fallback);
                var previousStates = states;
                next = next.Select((s, k) => torch.where(keep, s, previousStates[k])).ToArray();
            }
            outputs[t] = output;
            previousOutput = output;
            states = next;
        }
        return (torch.stack(outputs, 0), states);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        if (_declaredBatchSize is int batchSize)
        {
            if (config.TryGetValue("batch_input_shape", out var shape) && shape is long?[] batchShape)
                batchShape[0] = batchSize;
            else
                config["batch_size"] = batchSize;
        }
        config["return_sequences"] = ReturnSequences;
        config["return_state"] = ReturnState;
        config["go_backwards"] = GoBackwards;
        config["stateful"] = Stateful;
        config["unroll"] = false;
        config["zero_output_for_mask"] = ZeroOutputForMask;
        foreach (var (key, value) in Cell.GetConfig())
            config[key] = value;
        config["dropout"] = Cell.Dropout;
        config["recurrent_dropout"] = Cell.RecurrentDropout;
        config["seed"] = Cell.Seed;
        return config;
    }
}
