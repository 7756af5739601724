using SeqSharp.Layers;
using static TorchSharp.torch;

namespace SeqSharp;

/// <summary>
/// A symbolic tensor of the Functional API (Keras's <c>KerasTensor</c>): the shape and element type
/// of a value that a layer will compute, and the layer call that computes it. Made by
/// <see cref="Input"/> and by <c>layer.Apply(...)</c>; <c>new Model(inputs, outputs)</c> turns the
/// calls between them into a model.
/// </summary>
/// <remarks>
/// A layer call with several outputs (a recurrent layer with <c>returnState: true</c>, attention
/// with its scores) returns its first output; deconstruct it to get them all:
/// <c>var (output, stateH, stateC) = new LSTM(32, returnState: true).Apply(x);</c>.
/// </remarks>
public class KerasTensor
{
    private readonly long[] _sampleShape;

    internal KerasTensor(long[] sampleShape, ScalarType dtype, string name)
    {
        _sampleShape = sampleShape.ToArray();
        DType = dtype;
        Name = name;
    }

    /// <summary>The shape with the batch axis first; null for sizes known only when called (the batch axis always).</summary>
    public IReadOnlyList<long?> Shape => [null, .. _sampleShape.Select(d => d == -1 ? null : (long?)d)];

    /// <summary>The shape of one sample (no batch axis), -1 for unknown sizes.</summary>
    internal long[] SampleShape => _sampleShape.ToArray();

    /// <summary>The element type.</summary>
    public ScalarType DType { get; }

    /// <summary>A name for messages: the input's name, or <c>layer[node][index]</c> as Keras shows it.</summary>
    public string Name { get; }

    /// <summary>The call that computes this tensor (null for an <see cref="Input"/>).</summary>
    internal Node? Node { get; init; }

    /// <summary>Which output of <see cref="Node"/> this is.</summary>
    internal int OutputIndex { get; init; }

    /// <summary>The layer that computes this tensor (the <see cref="InputLayer"/> for an input): Keras's <c>keras_history</c> layer.</summary>
    public Layer Layer => Node?.Layer ?? ((Input)this).InputLayer;

    /// <summary>Every output of the call that made this tensor, in order (this one among them).</summary>
    public IReadOnlyList<KerasTensor> Outputs => Node?.Outputs ?? [this];

    /// <summary>The outputs of a call with two outputs.</summary>
    public void Deconstruct(out KerasTensor first, out KerasTensor second)
    {
        var all = Need(2);
        (first, second) = (all[0], all[1]);
    }

    /// <summary>The outputs of a call with three outputs, e.g. an LSTM's output, h and c.</summary>
    public void Deconstruct(out KerasTensor first, out KerasTensor second, out KerasTensor third)
    {
        var all = Need(3);
        (first, second, third) = (all[0], all[1], all[2]);
    }

    /// <summary>The outputs of a call with four outputs.</summary>
    public void Deconstruct(out KerasTensor first, out KerasTensor second, out KerasTensor third, out KerasTensor fourth)
    {
        var all = Need(4);
        (first, second, third, fourth) = (all[0], all[1], all[2], all[3]);
    }

    /// <summary>The outputs of a call with five outputs, e.g. a bidirectional LSTM's output and four states.</summary>
    public void Deconstruct(out KerasTensor first, out KerasTensor second, out KerasTensor third, out KerasTensor fourth, out KerasTensor fifth)
    {
        var all = Need(5);
        (first, second, third, fourth, fifth) = (all[0], all[1], all[2], all[3], all[4]);
    }

    private IReadOnlyList<KerasTensor> Need(int count)
    {
        var all = Outputs;
        if (all.Count != count)
            throw new InvalidOperationException(
                $"The call of layer '{Layer.Name}' that made {Name} has {all.Count} output(s); it cannot be deconstructed into {count}. " +
                (all.Count == 1 && Layer is Layers.Rnn or Layers.Bidirectional ? "Create the recurrent layer with returnState: true to get its states." : ""));
        return all;
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"<KerasTensor shape=({string.Join(", ", Shape.Select(d => d?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "None"))}), dtype={DType}, name={Name}>";
}

/// <summary>
/// A model input of the Functional API (Keras's <c>keras.Input</c>): a symbolic tensor of the given
/// sample shape, <c>null</c> for sizes known only when called.
/// </summary>
/// <example>
/// <code>
/// var inputs = new Input(shape: [null, 8], name: "in");
/// var h = new LSTM(32).Apply(inputs);
/// var model = new Model(inputs, new Dense(1).Apply(h));
/// </code>
/// </example>
public sealed class Input : KerasTensor
{
    /// <summary>Creates an input.</summary>
    /// <param name="shape">One sample's shape, without the batch axis; null (or -1) for a size known only when called, such as the time axis.</param>
    /// <param name="name">The input's name (Keras's automatic <c>input_layer</c>, <c>input_layer_1</c>, ... when null).</param>
    /// <param name="dtype">The element type: Float32 (default), Float64, or an integer type for token ids.</param>
    /// <exception cref="ArgumentOutOfRangeException">An empty shape or a size that is neither positive nor null.</exception>
    public Input(long?[] shape, string? name = null, ScalarType? dtype = null)
        : this(new InputLayer(Check(shape), name ?? LayerNames.Next("InputLayer"), dtype is ScalarType.Float64 ? ScalarType.Float64 : null), dtype ?? ScalarType.Float32)
    {
    }

    private Input(InputLayer layer, ScalarType dtype) : base(layer.InputShape!, dtype, layer.Name)
    {
        InputLayer = layer;
        layer.Build(layer.InputShape!);
    }

    /// <summary>The input layer that stands for this input in the model's layers and files.</summary>
    public InputLayer InputLayer { get; }

    private static long?[] Check(long?[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0 || shape.Any(d => d is not null && d <= 0 && d != -1))
            throw new ArgumentOutOfRangeException(nameof(shape),
                $"Expected an input shape of positive sizes, with null for a size known only when called, such as [null, 8] (without the batch axis). " +
                $"Received: shape=[{string.Join(", ", shape.Select(d => d?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"))}].");
        return shape;
    }
}

/// <summary>One call of a layer in a functional graph (Keras's <c>Node</c>): its input tensors, call arguments and outputs.</summary>
internal sealed class Node
{
    public Node(Layer layer, IReadOnlyList<KerasTensor> inputs, int mainInputs, IReadOnlyDictionary<string, object?> callArgs, int index)
    {
        Layer = layer;
        Inputs = inputs;
        MainInputs = mainInputs;
        CallArgs = callArgs;
        Index = index;
    }

    public Layer Layer { get; }

    /// <summary>The input tensors: the main ones, then extra ones such as a recurrent layer's initial states.</summary>
    public IReadOnlyList<KerasTensor> Inputs { get; }

    /// <summary>How many of <see cref="Inputs"/> are the layer's inputs proper (the rest are initial states).</summary>
    public int MainInputs { get; }

    /// <summary>Keyword call arguments by their Keras names (not tensors).</summary>
    public IReadOnlyDictionary<string, object?> CallArgs { get; }

    /// <summary>This call's index among the layer's calls (Keras's node index).</summary>
    public int Index { get; }

    public IReadOnlyList<KerasTensor> Outputs { get; set; } = [];
}
