using Microsoft.Extensions.Logging;
using SeqSharp.Callbacks;
using SeqSharp.Data;
using SeqSharp.Layers;
using SeqSharp.Training;
using TorchSharp;
using TorchSharp.Modules;
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
public sealed partial class Sequential : Model
{
    private readonly List<Layer> _layers = [];

    /// <summary>Creates an empty model.</summary>
    /// <param name="name">Model name; automatic (<c>sequential</c>, <c>sequential_1</c>, ...) when null.</param>
    public Sequential(string? name = null) : base(name ?? LayerNames.Next(nameof(Sequential)))
    {
    }

    /// <summary>Creates a model from layers, added in order.</summary>
    /// <exception cref="ArgumentException">A layer does not fit the previous one's output, or a name repeats.</exception>
    public Sequential(IEnumerable<Layer> layers, string? name = null) : this(name)
    {
        ArgumentNullException.ThrowIfNull(layers);
        foreach (var layer in layers)
            Add(layer);
    }

    /// <summary>
    /// The layers the user added, in order, without the <see cref="InputLayer"/> (as Keras 3's
    /// <c>model.layers</c>): <c>Layers[0]</c> is the first layer that computes something.
    /// </summary>
    public override IReadOnlyList<Layer> Layers => _layers.Count > 0 && _layers[0] is InputLayer ? _layers.Skip(1).ToList() : _layers;

    /// <summary>Every layer including a leading <see cref="InputLayer"/>, for the file writers.</summary>
    internal override IReadOnlyList<Layer> AllLayers => _layers;

    internal override IReadOnlyList<Layer> UniqueLayers => _layers;

    /// <summary>Whether every layer has its weights.</summary>
    public override bool Built => _layers.Count > 0 && _layers.All(l => l.Built);

    /// <summary>The input sample shape (no batch axis), when known.</summary>
    public override long[]? InputShape => _layers.Count == 0 ? null : _layers[0].BuiltInputShape ?? _layers[0].InputShape;

    /// <summary>The output sample shape (no batch axis), when the model is built.</summary>
    public override long[]? OutputShape => Built ? _layers[^1].OutputShape : null;

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
    /// last layer's; an optimizer built for the removed layer's weights needs <see cref="Model.Compile(Optimizers.Optimizer?, Losses.Loss?, IReadOnlyList{object}?)"/>
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

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        // Each layer's output mask goes to the next layer, as in Keras.
        Tensor? mask = null;
        for (int i = 0; i < _layers.Count; i++)
            (x, mask) = _layers[i].CallWithMask(MarkForGradients(x, i), mask);
        return x;
    }

    /// <inheritdoc />
    private protected override int LayerPosition(Parameter variable)
    {
        for (int i = 0; i < _layers.Count; i++)
        {
            foreach (var w in _layers[i].TrainableWeights)
            {
                if (ReferenceEquals(w, variable))
                    return i;
            }
        }
        return 0;
    }

    private protected override void BuildFor(Tensor x)
    {
        if (Built)
            return;
        if (_layers.Count == 0)
            throw new InvalidOperationException($"Model '{Name}' has no layers: call Add() first.");
        if (x.dim() < 1)
            throw new ArgumentException($"Expected an input with a batch axis. Received a scalar.", nameof(x));
        Build(x.shape[1..]);
    }

    private protected override void RequireLayers()
    {
        if (_layers.Count == 0)
            throw new InvalidOperationException($"Model '{Name}' has no layers: call Add() first.");
    }

    internal override ScalarType InputDType => _layers[0].DType;

    internal override string LoggerCategory => "SeqSharp.Sequential";

    /// <summary>The output sample shape for an input sample shape, checking every layer without building any.</summary>
    /// <param name="sampleShape">The input shape without the batch axis.</param>
    /// <param name="batch">The batch size shown in error messages (-1 when unknown).</param>
    internal override long[] InferOutputShape(long[] sampleShape, long batch = -1)
    {
        var shape = sampleShape;
        foreach (var layer in _layers)
        {
            layer.InputSpec.Check(layer.Name, [batch, .. shape]);
            shape = layer.ComputeOutputShape(shape);
        }
        return shape;
    }

    /// <summary>
    /// Loads a Sequential model saved by <see cref="Model.Save"/> or by Keras (Keras <c>load_model</c>);
    /// see <see cref="Model.Load"/>, which loads functional models too.
    /// </summary>
    /// <inheritdoc cref="Model.Load"/>
    /// <exception cref="InvalidDataException">The file holds a functional model (load it with <see cref="Model.Load"/>), or as for <see cref="Model.Load"/>.</exception>
    public static new Sequential Load(string path, bool compile = true, IReadOnlyDictionary<string, object>? customObjects = null)
    {
        var model = Model.Load(path, compile, customObjects);
        if (model is Sequential sequential)
            return sequential;
        model.Dispose();
        throw new InvalidDataException($"'{path}': it holds a Keras functional model, not a Sequential one: load it with Model.Load(path).");
    }
}
