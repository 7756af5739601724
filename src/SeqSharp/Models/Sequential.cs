using SeqSharp.Callbacks;
using SeqSharp.Data;
using SeqSharp.Layers;
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

    /// <summary>The layers, in order.</summary>
    public IReadOnlyList<Layer> Layers => _layers;

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
        if (_layers.Count > 0 && layer.InputShape is not null)
            throw new ArgumentException(
                $"Only the first layer of a Sequential model may declare an input shape. Layer '{layer.Name}' declares {ShapeText.Format(layer.InputShape)}.", nameof(layer));

        long[]? incoming = _layers.Count == 0 ? layer.InputShape : (Built ? _layers[^1].OutputShape : null);
        if (incoming is not null)
            layer.Build(incoming);
        _layers.Add(layer);
        register_module(layer.Name, layer);
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
    /// <returns>A float32 CPU tensor <c>(samples, ...)</c>.</returns>
    /// <exception cref="ArgumentException">The input does not fit the model, or has no samples.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    public Tensor Predict(Tensor x, int batchSize = 32, int verbose = 1, IReadOnlyList<Callback>? callbacks = null)
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

        long samples = x.shape[0];
        int steps = (int)((samples + batchSize - 1) / batchSize);
        var list = DefaultCallbacks(callbacks, verbose, history: null, new Dictionary<string, object> { ["steps"] = steps, ["verbose"] = verbose });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Inference mode for these calls only, never by switching the model's shared flag: a Predict
        // during a Fit on another thread must neither see dropout nor turn it off for the Fit.
        using (CallMode.Use(training: false))
        {
            using var outer = torch.NewDisposeScope();
            using var _ = torch.no_grad();
            list.PredictBegin(new Dictionary<string, double>());
            var parts = new List<Tensor>();
            for (int step = 0; step < steps; step++)
            {
                list.PredictBatchBegin(step, new Dictionary<string, double>());
                using (var scope = torch.NewDisposeScope())
                {
                    long start = (long)step * batchSize;
                    var batch = x.narrow(0, start, Math.Min(batchSize, samples - start));
                    parts.Add(forward(batch).to_type(ScalarType.Float32).MoveToOuterDisposeScope());
                }
                list.PredictBatchEnd(step, new Dictionary<string, double>());
            }
            var result = parts.Count == 1 ? parts[0].contiguous() : torch.cat(parts, 0);
            list.PredictEnd(new Dictionary<string, double>());
            Training.ModelLog.Predicted(Logger, Name, samples, clock.Elapsed.TotalMilliseconds);
            return result.MoveToOuterDisposeScope();
        }
    }

    /// <summary>Generates outputs for a rectangular <c>float</c> or <c>double</c> array, such as <c>float[samples, timesteps, features]</c>.</summary>
    /// <inheritdoc cref="Predict(Tensor, int, int, IReadOnlyList{Callback}?)"/>
    public Tensor Predict(Array x, int batchSize = 32, int verbose = 1, IReadOnlyList<Callback>? callbacks = null)
    {
        using var input = TensorData.FromArray(x, nameof(x));
        return Predict(input, batchSize, verbose, callbacks);
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
