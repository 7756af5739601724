using SeqSharp.Callbacks;
using SeqSharp.Data;
using SeqSharp.Losses;
using SeqSharp.Training;
using static TorchSharp.torch;

namespace SeqSharp;

public partial class Model
{
    /// <summary>
    /// Trains a model with several inputs or several outputs on batches from a generator or
    /// re-iterable sequence (Keras <c>fit</c> on a dataset of <c>((x1, x2), (y1, y2))</c>): each batch
    /// holds one tensor per input and one target tensor per output, in the order of
    /// <see cref="Inputs"/> and <see cref="Outputs"/>. Batches may differ in their time length when
    /// the inputs' time axis is <c>null</c>. Everything else is as for the single-tensor source
    /// <see cref="Fit(IEnumerable{ValueTuple{Tensor, Tensor}}, int, int, IReadOnlyList{Callback}?, IEnumerable{ValueTuple{Tensor, Tensor}}?, int?, int?, IReadOnlyDictionary{int, double}?, int, int, int, CancellationToken)"/>;
    /// class weights are not taken (Keras refuses them for several outputs). An indexable
    /// <see cref="BatchDataset"/> whose <c>GetBatch</c> returns
    /// <see cref="Batch(IReadOnlyList{Tensor}, IReadOnlyList{Tensor}?, Tensor?)"/> works the same way.
    /// </summary>
    /// <example>
    /// <code>
    /// IEnumerable&lt;(IReadOnlyList&lt;Tensor&gt; X, IReadOnlyList&lt;Tensor&gt; Y)&gt; Batches()
    /// {
    ///     while (true)
    ///     {
    ///         var (encoderX, decoderX, decoderY) = NextPairs(64);
    ///         yield return ([encoderX, decoderX], [decoderY]);
    ///     }
    /// }
    /// model.Fit(Batches(), epochs: 40, stepsPerEpoch: 100);
    /// </code>
    /// </example>
    /// <exception cref="ArgumentException">A batch with the wrong number of tensors, or one that does not fit its input or output; the message names the batch.</exception>
    public History Fit(IEnumerable<(IReadOnlyList<Tensor> X, IReadOnlyList<Tensor> Y)> data, int epochs = 1, int verbose = 1,
        IReadOnlyList<Callback>? callbacks = null, IEnumerable<(IReadOnlyList<Tensor> X, IReadOnlyList<Tensor> Y)>? validationData = null,
        int? stepsPerEpoch = null, int? validationSteps = null, int initialEpoch = 0, int workers = 1, int maxQueueSize = 10,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var keep = KeepLayout();
        return FitSource(ListSource(data), validationData is null ? null : ListSource(validationData),
            epochs, verbose, callbacks, stepsPerEpoch, validationSteps, null, initialEpoch, workers, maxQueueSize, cancellationToken);
    }

    /// <summary>Evaluates a model with several inputs or outputs on batches of one tensor per input and one target tensor per output.</summary>
    /// <inheritdoc cref="Evaluate(IEnumerable{ValueTuple{Tensor, Tensor}}, int?, int, IReadOnlyList{Callback}?, int, int, CancellationToken)"/>
    public IReadOnlyDictionary<string, double> Evaluate(IEnumerable<(IReadOnlyList<Tensor> X, IReadOnlyList<Tensor> Y)> data, int? steps = null, int verbose = 1,
        IReadOnlyList<Callback>? callbacks = null, int workers = 1, int maxQueueSize = 10, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var keep = KeepLayout();
        return EvaluateSource(ListSource(data), steps, verbose, callbacks, workers, maxQueueSize, cancellationToken);
    }

    /// <summary>Predicts with a model with several inputs (and one output) on batches of one tensor per input; the outputs are joined along the batch axis.</summary>
    /// <inheritdoc cref="Predict(IEnumerable{Tensor}, int?, int, IReadOnlyList{Callback}?, int, int, CancellationToken)"/>
    public Tensor Predict(IEnumerable<IReadOnlyList<Tensor>> data, int? steps = null, int verbose = 1, IReadOnlyList<Callback>? callbacks = null,
        int workers = 1, int maxQueueSize = 10, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        RequireOneOutput(nameof(Predict));
        using var keep = KeepLayout();
        return PredictSource(new EnumerableAdapter(data.Select(x => new Batch(x))), steps, verbose, callbacks, workers, maxQueueSize, cancellationToken);
    }

    private static EnumerableAdapter ListSource(IEnumerable<(IReadOnlyList<Tensor> X, IReadOnlyList<Tensor> Y)> data) =>
        new(data.Select(b => new Batch(b.X, b.Y)));

    /// <summary>
    /// The one input and one target tensor that the loops move for a batch made with lists (one tensor
    /// per input, one per output), packed on the calling thread, which sets this thread's layouts for
    /// the step that follows; a batch of single tensors passes as it is.
    /// </summary>
    private (Tensor X, Tensor? Y) Packed(Batch batch, Loss? loss)
    {
        var x = batch.Inputs is { } inputs ? PackListInputs(inputs) : batch.X;
        if (loss is null)
            return (x, null);
        var y = batch.Targets is { } targets ? PackListTargets(targets, loss) : batch.Y;
        return (x, y);
    }

    private Tensor PackListInputs(IReadOnlyList<Tensor> inputs)
    {
        if (_inputs.Count > 0)
            return PackInputs(inputs, "X");
        if (inputs.Count != 1)
            throw new ArgumentException($"Model '{Name}' is Sequential and has one input. Received {inputs.Count} input tensors in X.", "X");
        return inputs[0];
    }

    private Tensor PackListTargets(IReadOnlyList<Tensor> targets, Loss loss)
    {
        if (_outputs.Count > 1)
            return PackTargets(targets, loss, "Y");
        if (targets.Count != 1)
            throw new ArgumentException($"Model '{Name}' has one output. Received {targets.Count} target tensors in Y.", "Y");
        return targets[0];
    }
}
