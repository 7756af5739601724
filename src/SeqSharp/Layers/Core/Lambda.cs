using System.Collections;
using SeqSharp.Saving;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Wraps a C# function of the input tensor as a layer (Keras <c>layers.Lambda</c>): no weights,
/// the function is the whole computation, differentiable when the function is.
/// </summary>
/// <remarks>
/// <para>A model file cannot hold C# code, so a Lambda is saved by the name of its function
/// (<c>functionName</c>), written as Keras writes a named Python function
/// (<c>{"module": "builtins", "class_name": "function", "config": name}</c>). Loading finds the function
/// by that name among <c>customObjects</c> or <see cref="CustomObjects"/>. Saving a Lambda whose
/// function has no name is refused with a message that says how to name it. A Keras file whose
/// Lambda holds a Python <c>lambda</c> (bytecode) is refused with a message naming the layer:
/// SeqSharp never runs code from a file.</para>
/// <para>The output shape (without the batch axis) is <c>outputShape</c> when given, else
/// found by calling the function once on zeros of batch size 1 when the layer is built. Masks are not
/// passed on (Keras's Lambda without <c>mask</c>). ONNX export refuses Lambda layers: a C# function has
/// no ONNX form.</para>
/// </remarks>
/// <example>
/// <code>
/// model.Add(new Lambda(x => x * 400, functionName: "times400"));
/// model.Save("m.keras");
/// var again = Sequential.Load("m.keras",
///     customObjects: new Dictionary&lt;string, object&gt; { ["times400"] = (Func&lt;Tensor, Tensor&gt;)(x => x * 400) });
/// </code>
/// </example>
public sealed class Lambda : Layer
{
    private readonly long[]? _outputShape;
    private long[]? _inferredFor;
    private long[]? _inferred;

    /// <summary>Creates the layer.</summary>
    /// <param name="function">The computation, from the input <c>(batch, ...)</c> to the output <c>(batch, ...)</c>.</param>
    /// <param name="functionName">The name a saved model uses for the function (Keras: the Python function's name); null makes the model unsaveable with <c>Save</c>.</param>
    /// <param name="outputShape">The output sample shape (no batch axis); null to find it by calling the function.</param>
    /// <param name="inputShape">Sample shape when this is the first layer.</param>
    /// <param name="name">Layer name; automatic (<c>lambda</c>, <c>lambda_1</c>, ...) when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentNullException"><paramref name="function"/> is null.</exception>
    /// <exception cref="ArgumentException">An empty function name or a non-positive output size.</exception>
    public Lambda(Func<Tensor, Tensor> function, string? functionName = null, long[]? outputShape = null,
        long?[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(name, inputShape, dtype)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (functionName is not null && string.IsNullOrWhiteSpace(functionName))
            throw new ArgumentException($"Expected a non-empty function name or null. Received: functionName=\"{functionName}\".", nameof(functionName));
        if (outputShape is not null && (outputShape.Length == 0 || outputShape.Any(d => d <= 0)))
            throw new ArgumentException($"Expected an output shape of positive sizes (without the batch axis). Received: outputShape={ShapeText.Format(outputShape)}.", nameof(outputShape));
        Function = function;
        FunctionName = functionName;
        _outputShape = outputShape?.ToArray();
    }

    /// <summary>The wrapped function.</summary>
    public Func<Tensor, Tensor> Function { get; }

    /// <summary>The function's name in model files, or null.</summary>
    public string? FunctionName { get; }

    /// <inheritdoc />
    public override InputSpec InputSpec => new(MinRank: 1);

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape)
    {
    }

    /// <inheritdoc />
    public override long[] ComputeOutputShape(long[] sampleShape)
    {
        if (_outputShape is not null)
            return _outputShape.ToArray();
        if (_inferredFor is not null && _inferredFor.SequenceEqual(sampleShape))
            return _inferred!.ToArray();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // Unknown sizes (-1) are probed with two different sizes: an output size that follows them is unknown too.
        var output = Apply(zeros([1, .. sampleShape.Select(d => d == -1 ? 3L : d)], DType)).shape[1..];
        if (sampleShape.Contains(-1))
        {
            var other = Apply(zeros([1, .. sampleShape.Select(d => d == -1 ? 5L : d)], DType)).shape[1..];
            output = output.Length == other.Length ? output.Zip(other, (a, b) => a == b ? a : -1L).ToArray() : output;
        }
        _inferredFor = sampleShape.ToArray();
        _inferred = output;
        return _inferred.ToArray();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => Apply(x);

    private Tensor Apply(Tensor x)
    {
        var y = Function(x) ?? throw new InvalidOperationException($"The function of Lambda layer '{Name}' returned null; expected a tensor.");
        if (y.dim() == 0 || y.shape[0] != x.shape[0])
            throw new InvalidOperationException(
                $"The function of Lambda layer '{Name}' must keep the batch axis first: input shape {ShapeText.Format(x.shape)}, output shape {ShapeText.Format(y.shape)}.");
        return y;
    }

    /// <summary>
    /// Keras's keys: <c>function</c> (the name as a serialized function, or null when the function has
    /// none), <c>output_shape</c> when given, <c>arguments</c> (always empty here).
    /// </summary>
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["function"] = FunctionName is null ? null : SerializedFunction(FunctionName);
        if (_outputShape is not null)
            config["output_shape"] = _outputShape.ToList();
        config["arguments"] = new Dictionary<string, object?>();
        return config;
    }

    /// <summary>Keras 3's <c>serialize_keras_object</c> of a named Python function.</summary>
    internal static Dictionary<string, object?> SerializedFunction(string name) => new()
    {
        ["module"] = "builtins",
        ["class_name"] = "function",
        ["config"] = name,
        ["registered_name"] = "function",
    };

    /// <summary>
    /// Keras 3's config (<c>function</c> a serialized function, or <c>{"class_name": "__lambda__"}</c>
    /// with bytecode) and tf.keras 2's (<c>function</c> a name with <c>function_type: "function"</c>, or
    /// a bytecode triple with <c>function_type: "lambda"</c>). The function comes from the custom objects.
    /// </summary>
    internal static Lambda FromConfig(LayerConfig c)
    {
        string layer = c.Name is { } n ? $"Lambda layer '{n}'" : "A Lambda layer";
        var function = c.Get("function");
        string? functionType = c.OptionalString("function_type");
        string name = function switch
        {
            IReadOnlyDictionary<string, object?> d when d.GetValueOrDefault("class_name") is "__lambda__" => throw Bytecode(layer),
            IList when functionType is null or "lambda" => throw Bytecode(layer),
            IReadOnlyDictionary<string, object?> d when d.GetValueOrDefault("class_name") is "function" && d.GetValueOrDefault("config") is string f => f,
            string f when functionType is null or "function" => f,
            null => throw new ArgumentException(
                $"{layer} names no function (its 'function' is null: it was saved from an unnamed C# function?). Expected the name of a function supplied through customObjects."),
            _ => throw new ArgumentException($"{layer} has a 'function' of an unexpected form: {ConfigActivator.Describe(function)}."),
        };
        if (c.Get("arguments") is IReadOnlyDictionary<string, object?> { Count: > 0 } arguments)
            throw new NotSupportedException(
                $"{layer} passes arguments {ConfigActivator.Describe(arguments)} to its function; SeqSharp's Lambda functions take the input tensor alone. Bind them in the C# function you supply as '{name}'.");
        if (c.Get("mask") is { } mask)
            throw new NotSupportedException($"{layer} sets a mask ({ConfigActivator.Describe(mask)}), which SeqSharp's Lambda does not support.");
        long[]? outputShape = c.Get("output_shape") switch
        {
            IList list when c.OptionalString("output_shape_type") is null or "raw" && list.Cast<object?>().All(v => v is long or double) => c.Longs("output_shape"),
            // A shape function (Python code or a name): SeqSharp finds the output shape by calling the C# function instead.
            _ => null,
        };
        var found = CustomObjectScope.Find(name)
            ?? throw new ArgumentException(
                $"{layer} calls the function '{name}', which no custom object supplies. Write it in C# and supply it: " +
                $"Sequential.Load(path, customObjects: new Dictionary<string, object> {{ [\"{name}\"] = (Func<Tensor, Tensor>)(x => ...) }}) " +
                $"or CustomObjects.Register(\"{name}\", (Func<Tensor, Tensor>)(x => ...)).");
        if (found.Value is not Func<Tensor, Tensor> fn)
            throw new ArgumentException($"{layer} calls the function '{name}', but the custom object '{found.Name}' is {CustomObjects.Describe(found.Value)}; a Lambda needs a Func<Tensor, Tensor>.");
        return new Lambda(fn, name, outputShape, c.InputShape, c.Name, c.DType);
    }

    private static NotSupportedException Bytecode(string layer) => new(
        $"{layer} holds its function as Python bytecode (a Python lambda), which SeqSharp cannot run and never runs from a file (Keras itself refuses it in safe mode). " +
        "Write the function in C# and supply it by name: in Python, replace the lambda with a named function (def times400(x): return x * 400), save the model again, " +
        "then Sequential.Load(path, customObjects: new Dictionary<string, object> { [\"times400\"] = (Func<Tensor, Tensor>)(x => x * 400) }). " +
        "Or build the model in C# with new Lambda(x => ..., functionName: ...) and load the weights with LoadWeights.");
}
