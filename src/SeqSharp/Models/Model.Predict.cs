using SeqSharp.Callbacks;
using SeqSharp.Data;
using SeqSharp.Layers;
using SeqSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp;

public partial class Model
{
    /// <summary>
    /// Generates outputs for the input samples, in batches, without gradients and in inference mode
    /// (Keras <c>predict</c>).
    /// </summary>
    /// <param name="x">Inputs, <c>(samples, ...)</c>, e.g. <c>(samples, timesteps, features)</c>.</param>
    /// <param name="batchSize">Samples per batch (Keras default 32).</param>
    /// <param name="verbose">0 silent, 1 progress bar (Keras's default), 2 one line.</param>
    /// <param name="callbacks">Callbacks receiving the predict hooks.</param>
    /// <param name="cancellationToken">Stops before the next batch: <see cref="Callback.OnPredictEnd"/> runs, then <see cref="OperationCanceledException"/> is thrown.</param>
    /// <returns>A float32 CPU tensor <c>(samples, ...)</c>.</returns>
    /// <exception cref="ArgumentException">The input does not fit the model, or has no samples.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Tensor Predict(Tensor x, int batchSize = 32, int verbose = 1, IReadOnlyList<Callback>? callbacks = null,
        CancellationToken cancellationToken = default)
    {
        RequireOneOutput(nameof(Predict));
        return PredictTensor(x, batchSize, verbose, callbacks, cancellationToken);
    }

    /// <summary>Predict on one (possibly packed) input tensor; a multi-output model's result is packed.</summary>
    private protected Tensor PredictTensor(Tensor x, int batchSize, int verbose, IReadOnlyList<Callback>? callbacks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(x);
        RequirePositive(batchSize, nameof(batchSize));
        RequireVerbose(verbose);
        if (x.dim() < 2 || x.shape[0] == 0)
            throw new ArgumentException($"Predict needs inputs of rank >= 2 with at least one sample. Received shape {ShapeText.Format(x.shape)}.", nameof(x));
        RequireLayers();
        InferOutputShape(x.shape[1..], x.shape[0]);
        BuildFor(x);
        using var scope = torch.NewDisposeScope();
        // Inputs only: targets are not needed, a zero-size placeholder keeps the batch shape.
        var data = new Dataset(x, x.narrow(-1, 0, 0), null);
        using var iterator = new EpochIterator(new ArrayAdapter(data, batchSize, false), null, 0, 1);
        return RunPredict(iterator, verbose, callbacks, cancellationToken).MoveToOuterDisposeScope();
    }

    /// <summary>Generates outputs for a rectangular array (any numeric or bool element type) or a rectangular jagged array, such as <c>float[samples, timesteps, features]</c>.</summary>
    /// <inheritdoc cref="Predict(Tensor, int, int, IReadOnlyList{Callback}?, CancellationToken)"/>
    public Tensor Predict(Array x, int batchSize = 32, int verbose = 1, IReadOnlyList<Callback>? callbacks = null,
        CancellationToken cancellationToken = default)
    {
        using var input = TensorData.FromArray(x, nameof(x));
        return Predict(input, batchSize, verbose, callbacks, cancellationToken);
    }

    /// <summary>
    /// Generates outputs for batches of inputs from a generator or re-iterable sequence (Keras
    /// <c>predict</c> on a generator): the whole source, or its first <paramref name="steps"/>
    /// batches; the outputs are joined along the batch axis.
    /// </summary>
    /// <param name="data">Input batches <c>(batch, ...)</c>.</param>
    /// <param name="steps">Batches to run; null for all (required for an endless source).</param>
    /// <param name="verbose">0 silent, 1 progress bar, 2 one line.</param>
    /// <param name="callbacks">Callbacks receiving the predict hooks.</param>
    /// <param name="workers">Background threads preparing batches (0: the calling thread).</param>
    /// <param name="maxQueueSize">How many batches may be prepared ahead.</param>
    /// <param name="cancellationToken">Stops before the next batch and throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>A float32 CPU tensor <c>(samples, ...)</c>.</returns>
    /// <exception cref="ArgumentException">A batch does not fit the model (the message names it), or the batches' outputs differ in shape beyond the batch axis.</exception>
    public Tensor Predict(IEnumerable<Tensor> data, int? steps = null, int verbose = 1, IReadOnlyList<Callback>? callbacks = null,
        int workers = 1, int maxQueueSize = 10, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        RequireOneOutput(nameof(Predict));
        return PredictSource(new EnumerableAdapter(data.Select(x => new Batch(x))), steps, verbose, callbacks, workers, maxQueueSize, cancellationToken);
    }

    /// <summary>Generates outputs for a <see cref="BatchDataset"/>, such as a <see cref="TimeseriesDataset"/>, in index order (targets, if any, are not used).</summary>
    /// <inheritdoc cref="Predict(IEnumerable{Tensor}, int?, int, IReadOnlyList{Callback}?, int, int, CancellationToken)"/>
    public Tensor Predict(BatchDataset data, int? steps = null, int verbose = 1, IReadOnlyList<Callback>? callbacks = null,
        int workers = 1, int maxQueueSize = 10, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        RequireOneOutput(nameof(Predict));
        if (steps is null && data.BatchCount is null)
            throw new ArgumentException("The dataset is endless (BatchCount is null): give steps.", nameof(steps));
        return PredictSource(new DatasetAdapter(data, false), steps, verbose, callbacks, workers, maxQueueSize, cancellationToken);
    }

    /// <summary>
    /// Outputs for one batch, without gradients and in inference mode (Keras <c>predict_on_batch</c>):
    /// the whole batch in one call, no callbacks.
    /// </summary>
    /// <param name="x">Inputs <c>(batch, ...)</c>.</param>
    /// <returns>A float32 CPU tensor <c>(batch, ...)</c>.</returns>
    /// <exception cref="ArgumentException">The input does not fit the model.</exception>
    public Tensor PredictOnBatch(Tensor x) => Predict(x, batchSize: (int)Math.Clamp(x?.shape[0] ?? 1, 1, int.MaxValue), verbose: 0);

    /// <summary>Outputs for one batch given as a rectangular array.</summary>
    /// <inheritdoc cref="PredictOnBatch(Tensor)"/>
    public Tensor PredictOnBatch(Array x)
    {
        using var input = TensorData.FromArray(x, nameof(x));
        return PredictOnBatch(input);
    }

    private protected Tensor PredictSource(DataAdapter adapter, int? steps, int verbose, IReadOnlyList<Callback>? callbacks, int workers, int maxQueueSize,
        CancellationToken cancellationToken)
    {
        RequireVerbose(verbose);
        RequireSteps(steps, nameof(steps));
        RequireWorkers(workers, maxQueueSize);
        RequireLayers();
        using var iterator = new EpochIterator(adapter, steps, workers, maxQueueSize) { RanOut = () => RanOut(steps, "prediction") };
        return RunPredict(iterator, verbose, callbacks, cancellationToken);
    }

    /// <summary>The prediction loop shared by every kind of data.</summary>
    private protected Tensor RunPredict(EpochIterator iterator, int verbose, IReadOnlyList<Callback>? callbacks, CancellationToken cancellationToken)
    {
        var parameters = new Dictionary<string, object> { ["verbose"] = verbose };
        if (iterator.Steps is int known)
            parameters["steps"] = known;
        var list = DefaultCallbacks(callbacks, verbose, history: null, parameters);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Inference mode for these calls only, never by switching the model's shared flag: a Predict
        // during a Fit on another thread must neither see dropout nor turn it off for the Fit.
        using (CallMode.Use(training: false))
        {
            using var outer = torch.NewDisposeScope();
            using var _ = torch.no_grad();
            list.PredictBegin(new Dictionary<string, double>());
            var parts = new List<Tensor>();
            int step = 0;
            try
            {
                foreach (var fetched in iterator.Epoch())
                {
                    using (fetched)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        list.PredictBatchBegin(step, new Dictionary<string, double>());
                        using (var scope = torch.NewDisposeScope())
                        {
                            var xb = iterator.Adapter.Checked ? fetched.Batch.X : CheckInputs(fetched.Batch, step);
                            BuildFor(xb);
                            parts.Add(forward(xb).to_type(ScalarType.Float32).MoveToOuterDisposeScope());
                        }
                        list.PredictBatchEnd(step, new Dictionary<string, double>());
                        step++;
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                list.PredictEnd(new Dictionary<string, double>());
                throw;
            }
            if (parts.Count == 0)
                throw new ArgumentException("The data source yielded no batches: nothing to predict.");
            for (int k = 1; k < parts.Count; k++)
            {
                if (!parts[k].shape.Skip(1).SequenceEqual(parts[0].shape.Skip(1)))
                    throw new ArgumentException(
                        $"The outputs of batch 0 {ShapeText.Format(parts[0].shape)} and batch {k} {ShapeText.Format(parts[k].shape)} differ beyond the batch axis, so they cannot be joined " +
                        "(inputs of different lengths give outputs of different lengths with returnSequences): predict such batches one at a time with PredictOnBatch().");
            }
            var result = parts.Count == 1 ? parts[0].contiguous() : torch.cat(parts, 0);
            list.PredictEnd(new Dictionary<string, double>());
            Training.ModelLog.Predicted(Logger, Name, result.shape[0], clock.Elapsed.TotalMilliseconds);
            return result.MoveToOuterDisposeScope();
        }
    }

    /// <summary>Checks one input batch from a source; the message names the batch and the expected shape.</summary>
    private protected Tensor CheckInputs(Batch batch, int index)
    {
        string expected = InputShape is { } input ? $" Expected X of shape {ShapeText.WithBatch(input)}." : "";
        if (batch.X is null)
            throw new ArgumentException($"Batch {index} of the prediction data has no inputs (X is null).{expected}");
        Tensor x;
        try
        {
            x = Packed(batch, null).X;
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Batch {index} of the prediction data was refused: {e.Message}", e);
        }
        if (x.dim() < 2 || x.shape[0] == 0)
            throw new ArgumentException($"Batch {index} of the prediction data was refused: expected rank >= 2 with at least one sample. Received shape {ShapeText.Format(x.shape)}.{expected}");
        try
        {
            InferOutputShape(x.shape[1..], x.shape[0]);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Batch {index} of the prediction data was refused: {e.Message}{expected}", e);
        }
        return x;
    }

    /// <summary>Copies of every layer's weights, layer by layer in Keras's order.</summary>
    public IReadOnlyList<Tensor> GetWeights() => UniqueLayers.SelectMany(l => l.GetWeights()).ToList();

    /// <summary>Sets every layer's weights from a list in the order <see cref="GetWeights"/> returns. Checked in full before anything is written.</summary>
    /// <exception cref="InvalidOperationException">The model is not built.</exception>
    /// <exception cref="ArgumentException">Wrong count or shape.</exception>
    public void SetWeights(IReadOnlyList<Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (!Built)
            throw new InvalidOperationException($"Model '{Name}' is not built: give its first layer an inputShape, call Build(), or run it on data first.");
        int expected = UniqueLayers.Sum(l => l.Weights.Count);
        if (weights.Count != expected)
            throw new ArgumentException($"Model '{Name}' expects {expected} weight tensors. Received: {weights.Count}.", nameof(weights));
        int offset = 0;
        var perLayer = new List<(Layer Layer, List<Tensor> Values)>();
        foreach (var layer in UniqueLayers)
        {
            var values = weights.Skip(offset).Take(layer.Weights.Count).ToList();
            for (int k = 0; k < values.Count; k++)
            {
                if (values[k] is null || !values[k].shape.SequenceEqual(layer.Weights[k].shape))
                    throw new ArgumentException(
                        $"Weight {offset + k} (weight {k} of layer '{layer.Name}') must have shape {ShapeText.Format(layer.Weights[k].shape)}. " +
                        $"Received: {(values[k] is null ? "null" : ShapeText.Format(values[k].shape))}.", nameof(weights));
            }
            perLayer.Add((layer, values));
            offset += layer.Weights.Count;
        }
        foreach (var (layer, values) in perLayer)
            layer.SetWeights(values);
    }

    /// <summary>
    /// Resets the carried states of every stateful recurrent layer to zeros (Keras
    /// <c>model.reset_states()</c>), e.g. between epochs or independent sequences.
    /// </summary>
    public void ResetStates()
    {
        foreach (var layer in UniqueLayers)
            layer.ResetStatesCore();
    }

    /// <summary>The total number of weight elements.</summary>
    public long CountParams() => UniqueLayers.Sum(l => l.CountParams());

}
