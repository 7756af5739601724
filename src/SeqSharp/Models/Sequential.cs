using Microsoft.Extensions.Logging;
using SeqSharp.Callbacks;
using SeqSharp.Data;
using SeqSharp.Layers;
using SeqSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp;

/// <summary>
/// A linear stack of layers (Keras <c>Sequential</c>): each layer's output is the next one's input.
/// </summary>
/// <remarks>
/// The model knows its input shape when its first layer declares one (<c>inputShape:</c> or an
/// <see cref="InputLayer"/>); layers are then built as they are added, so a misfit layer is
/// refused by <see cref="Add"/>. Otherwise the model is built from the first input it sees.
/// </remarks>
/// <example>
/// <code>
/// var model = new Sequential();
/// model.Add(new LSTM(units: 64, inputShape: [10, 1], returnSequences: true));
/// model.Add(new Dense(1));
/// Tensor y = model.Predict(x);   // x: (samples, 10, 1)
/// </code>
/// </example>
public sealed partial class Sequential : nn.Module<Tensor, Tensor>
{
    private readonly List<Layer> _layers = [];

    /// <summary>Creates an empty model.</summary>
    /// <param name="name">Model name; automatic (<c>sequential</c>, <c>sequential_1</c>, ...) when null.</param>
    public Sequential(string? name = null) : base(name ?? "sequential")
    {
        Name = name ?? LayerNames.Next(nameof(Sequential));
        // Inference mode until Fit (Keras calls a model with training=False by default).
        eval();
    }

    /// <summary>Creates a model from layers, added in order.</summary>
    /// <exception cref="ArgumentException">A layer does not fit the previous one's output, or a name repeats.</exception>
    public Sequential(IEnumerable<Layer> layers, string? name = null) : this(name)
    {
        ArgumentNullException.ThrowIfNull(layers);
        foreach (var layer in layers)
            Add(layer);
    }

    /// <summary>The model's name.</summary>
    public string Name { get; }

    /// <summary>
    /// The layers the user added, in order, without the <see cref="InputLayer"/> (as Keras 3's
    /// <c>model.layers</c>): <c>Layers[0]</c> is the first layer that computes something.
    /// </summary>
    public IReadOnlyList<Layer> Layers => _layers.Count > 0 && _layers[0] is InputLayer ? _layers.Skip(1).ToList() : _layers;

    /// <summary>Every layer including a leading <see cref="InputLayer"/>, for the file writers.</summary>
    internal IReadOnlyList<Layer> AllLayers => _layers;

    /// <summary>Whether every layer has its weights.</summary>
    public bool Built => _layers.Count > 0 && _layers.All(l => l.Built);

    /// <summary>The input sample shape (no batch axis), when known.</summary>
    public long[]? InputShape => _layers.Count == 0 ? null : _layers[0].BuiltInputShape ?? _layers[0].InputShape;

    /// <summary>The output sample shape (no batch axis), when the model is built.</summary>
    public long[]? OutputShape => Built ? _layers[^1].OutputShape : null;

    /// <summary>Appends a layer.</summary>
    /// <exception cref="ArgumentException">
    /// The layer's name is taken, the layer already belongs to this model, or it does not accept the
    /// previous layer's output shape. The model is unchanged.
    /// </exception>
    /// <exception cref="ArgumentNullException"><paramref name="layer"/> is null.</exception>
    public void Add(Layer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (_layers.Contains(layer))
            throw new ArgumentException($"Layer '{layer.Name}' is already in model '{Name}'.", nameof(layer));
        if (_layers.Any(l => l.Name == layer.Name))
            throw new ArgumentException(
                $"All layers added to a Sequential model should have unique names. Name '{layer.Name}' is already the name of a layer in this model.", nameof(layer));
        if (layer.ReturnsStates)
            throw new ArgumentException(
                $"Layer '{layer.Name}' returns its states besides its output (returnState: true), but a Sequential model passes one tensor from layer to layer. " +
                "Create the layer with returnState: false, or call it outside Sequential with CallWithState().", nameof(layer));
        if (_layers.Count > 0 && layer is InputLayer)
            throw new ArgumentException(
                $"An InputLayer can only be the first layer of a Sequential model. Model '{Name}' already has {_layers.Count} layer(s).", nameof(layer));
        if (_layers.Count > 0 && layer.InputShape is not null)
        {
            // As Keras 3: only the first layer's input shape counts; later ones are ignored.
            LoggerFactory?.CreateLogger("SeqSharp.Sequential").LogWarning(
                "Layer '{Layer}' declares inputShape {Shape}, which is ignored: only the first layer of a Sequential model declares the input shape. " +
                "Layer '{Layer}' takes the previous layer's output.", layer.Name, ShapeText.Format(layer.InputShape), layer.Name);
        }

        long[]? incoming = _layers.Count == 0 ? layer.InputShape : (Built ? _layers[^1].OutputShape : null);
        if (incoming is not null)
            layer.Build(incoming);
        _layers.Add(layer);
        register_module(layer.Name, layer);
    }

    /// <summary>
    /// Removes the last layer (Keras <c>pop</c>) and returns it. The model's output is then the new
    /// last layer's; an optimizer built for the removed layer's weights needs <see cref="Compile"/>
    /// again before training.
    /// </summary>
    /// <returns>The removed layer, which keeps its weights.</returns>
    /// <exception cref="InvalidOperationException">The model has no layers (an <see cref="InputLayer"/> alone counts as none).</exception>
    public Layer Pop()
    {
        if (Layers.Count == 0)
            throw new InvalidOperationException($"There are no layers in model '{Name}' to remove.");
        var layer = _layers[^1];
        _layers.RemoveAt(_layers.Count - 1);
        // TorchSharp keeps registered children in a name-keyed table: take the layer out of it too,
        // so that the model's parameters() no longer include its weights.
        _internal_submodules.Remove(layer.Name);
        return layer;
    }

    /// <summary>The layer called <paramref name="name"/> (Keras <c>get_layer(name=...)</c>).</summary>
    /// <exception cref="ArgumentException">No layer has that name; the message lists the names there are.</exception>
    public Layer GetLayer(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Layers.FirstOrDefault(l => l.Name == name)
            ?? throw new ArgumentException($"No such layer: {name}. Existing layers are: [{string.Join(", ", Layers.Select(l => l.Name))}].", nameof(name));
    }

    /// <summary>The layer at <paramref name="index"/> in <see cref="Layers"/> (Keras <c>get_layer(index=...)</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">No layer at that index.</exception>
    public Layer GetLayer(int index)
    {
        if (index < 0 || index >= Layers.Count)
            throw new ArgumentOutOfRangeException(nameof(index), index,
                $"Was asked to retrieve layer at index {index} but model '{Name}' only has {Layers.Count} layers.");
        return Layers[index];
    }

    /// <summary>
    /// Builds every layer for inputs of the given sample shape (no batch axis). Every layer's
    /// input requirements are checked before any weight is created.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no layers.</exception>
    /// <exception cref="ArgumentException">A layer does not accept the shape reaching it.</exception>
    public void Build(IReadOnlyList<long> sampleShape)
    {
        if (_layers.Count == 0)
            throw new InvalidOperationException($"Model '{Name}' has no layers: call Add() first.");
        var shape = sampleShape.ToArray();
        InferOutputShape(shape);
        foreach (var layer in _layers)
        {
            layer.Build(shape);
            shape = layer.OutputShape!;
        }
    }

    /// <summary>
    /// Runs the model on <paramref name="x"/> (batch axis first), building it on first use;
    /// differentiable. Uses the current mode: inference (<c>eval()</c>, the mode a new model and a
    /// model after <c>Fit</c> are in) or training (<c>train()</c>, dropout and noise active).
    /// </summary>
    /// <exception cref="ArgumentException">The input does not fit the first layer.</exception>
    public Tensor Call(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        EnsureBuilt(x);
        return forward(x);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        // Each layer's output mask goes to the next layer, as in Keras.
        Tensor? mask = null;
        foreach (var layer in _layers)
            (x, mask) = layer.CallWithMask(x, mask);
        return x;
    }

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
        ArgumentNullException.ThrowIfNull(x);
        RequirePositive(batchSize, nameof(batchSize));
        RequireVerbose(verbose);
        if (x.dim() < 2 || x.shape[0] == 0)
            throw new ArgumentException($"Predict needs inputs of rank >= 2 with at least one sample. Received shape {ShapeText.Format(x.shape)}.", nameof(x));
        if (_layers.Count == 0)
            throw new InvalidOperationException($"Model '{Name}' has no layers: call Add() first.");
        InferOutputShape(x.shape[1..], x.shape[0]);
        EnsureBuilt(x);
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
        return PredictSource(new EnumerableAdapter(data.Select(x => new Batch(x))), steps, verbose, callbacks, workers, maxQueueSize, cancellationToken);
    }

    /// <summary>Generates outputs for a <see cref="BatchDataset"/>, such as a <see cref="TimeseriesDataset"/>, in index order (targets, if any, are not used).</summary>
    /// <inheritdoc cref="Predict(IEnumerable{Tensor}, int?, int, IReadOnlyList{Callback}?, int, int, CancellationToken)"/>
    public Tensor Predict(BatchDataset data, int? steps = null, int verbose = 1, IReadOnlyList<Callback>? callbacks = null,
        int workers = 1, int maxQueueSize = 10, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
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

    private Tensor PredictSource(DataAdapter adapter, int? steps, int verbose, IReadOnlyList<Callback>? callbacks, int workers, int maxQueueSize,
        CancellationToken cancellationToken)
    {
        RequireVerbose(verbose);
        RequireSteps(steps, nameof(steps));
        RequireWorkers(workers, maxQueueSize);
        if (_layers.Count == 0)
            throw new InvalidOperationException($"Model '{Name}' has no layers: call Add() first.");
        using var iterator = new EpochIterator(adapter, steps, workers, maxQueueSize) { RanOut = () => RanOut(steps, "prediction") };
        return RunPredict(iterator, verbose, callbacks, cancellationToken);
    }

    /// <summary>The prediction loop shared by every kind of data.</summary>
    private Tensor RunPredict(EpochIterator iterator, int verbose, IReadOnlyList<Callback>? callbacks, CancellationToken cancellationToken)
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
                            var xb = iterator.Adapter.Checked ? fetched.Batch.X : CheckInputs(fetched.Batch.X, step);
                            EnsureBuilt(xb);
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
    private Tensor CheckInputs(Tensor? x, int index)
    {
        string expected = InputShape is { } input ? $" Expected X of shape {ShapeText.WithBatch(input)}." : "";
        if (x is null)
            throw new ArgumentException($"Batch {index} of the prediction data has no inputs (X is null).{expected}");
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
    public IReadOnlyList<Tensor> GetWeights() => _layers.SelectMany(l => l.GetWeights()).ToList();

    /// <summary>Sets every layer's weights from a list in the order <see cref="GetWeights"/> returns. Checked in full before anything is written.</summary>
    /// <exception cref="InvalidOperationException">The model is not built.</exception>
    /// <exception cref="ArgumentException">Wrong count or shape.</exception>
    public void SetWeights(IReadOnlyList<Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (!Built)
            throw new InvalidOperationException($"Model '{Name}' is not built: give its first layer an inputShape, call Build(), or run it on data first.");
        int expected = _layers.Sum(l => l.Weights.Count);
        if (weights.Count != expected)
            throw new ArgumentException($"Model '{Name}' expects {expected} weight tensors. Received: {weights.Count}.", nameof(weights));
        int offset = 0;
        var perLayer = new List<(Layer Layer, List<Tensor> Values)>();
        foreach (var layer in _layers)
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
        foreach (var layer in _layers)
            layer.ResetStatesCore();
    }

    /// <summary>The total number of weight elements.</summary>
    public long CountParams() => _layers.Sum(l => l.CountParams());

    /// <summary>Builds from the input's shape when the model is not built yet.</summary>
    private void EnsureBuilt(Tensor x)
    {
        if (Built)
            return;
        if (_layers.Count == 0)
            throw new InvalidOperationException($"Model '{Name}' has no layers: call Add() first.");
        if (x.dim() < 1)
            throw new ArgumentException($"Expected an input with a batch axis. Received a scalar.", nameof(x));
        Build(x.shape[1..]);
    }

}
