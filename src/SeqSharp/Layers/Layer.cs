using SeqSharp.Constraints;
using SeqSharp.Initializers;
using SeqSharp.Regularizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// The base of every SeqSharp layer: a TorchSharp module that knows its Keras name, its input
/// requirements, how to create its weights once the input shape is known, and its weights in
/// Keras's order and layout.
/// </summary>
/// <remarks>
/// <para>A new layer is in inference mode (<c>eval()</c>), as a Keras layer called outside
/// <c>fit()</c> is: call <c>train()</c> to make dropout-like layers act. <c>Sequential.Fit</c> runs
/// its own forward passes in training mode, and <c>Evaluate</c> / <c>Predict</c> theirs in inference
/// mode, without changing the flag (see <see cref="training"/>).</para>
/// <para>Shapes given to <see cref="Build"/> and <see cref="ComputeOutputShape"/> leave out the batch
/// axis: an LSTM fed <c>(batch, 10, 1)</c> is built with <c>[10, 1]</c>. A layer builds itself on
/// its first <see cref="Call"/> if nothing built it before.</para>
/// </remarks>
public abstract partial class Layer : nn.Module<Tensor, Tensor>
{
    private readonly List<Parameter> _trainableWeights = [];
    private readonly List<Parameter> _nonTrainableWeights = [];
    private bool _trainable = true;

    /// <summary>Sets the name, the declared input shape and the element type.</summary>
    /// <param name="name">The layer name; null for Keras's automatic name (<c>dense</c>, <c>dense_1</c>, ...).</param>
    /// <param name="inputShape">The shape of one sample, without the batch axis, when this is the model's first layer.</param>
    /// <param name="dtype">The weights' element type: <c>Float32</c> (default) or <c>Float64</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive input dimension, or a non-floating dtype.</exception>
    protected Layer(string? name, long?[]? inputShape, ScalarType? dtype) : base(name ?? "layer")
    {
        if (inputShape is not null && (inputShape.Length == 0 || inputShape.Any(d => d is not null && d <= 0 && d != -1)))
            throw new ArgumentOutOfRangeException(nameof(inputShape),
                $"Expected an input shape of positive sizes, with null (or -1) for a size known only when the model is called, such as [null, 14] for any number of time steps (without the batch axis). " +
                $"Received: inputShape={ShapeText.Format(inputShape.Select(d => d ?? -1).ToArray())}.");
        var type = dtype ?? ScalarType.Float32;
        if (type is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentOutOfRangeException(nameof(dtype), type, $"Expected dtype Float32 or Float64. Received: dtype={type}.");
        Name = name ?? LayerNames.Next(GetType().Name);
        InputShape = inputShape?.Select(d => d ?? -1).ToArray();
        DType = type;
        // As Keras, where a layer called outside fit() runs with training=False: dropout and noise
        // act only after train() (Fit calls it), and BatchNormalization uses its moving statistics.
        eval();
    }

    /// <summary>
    /// Sets the name, the declared input shape and the element type from a config, for the config
    /// constructor of a user-defined layer (<c>: base(config)</c>): reads the keys the base
    /// <see cref="GetConfig"/> writes (<c>name</c>, <c>batch_input_shape</c>, <c>dtype</c>); the layer's
    /// own keys are the subclass's to read. <c>trainable</c> is applied by the loader.
    /// </summary>
    /// <param name="config">The layer's config, as a model file holds it.</param>
    /// <exception cref="ArgumentException">A base key of the wrong kind.</exception>
    protected Layer(IReadOnlyDictionary<string, object?> config)
        : this(new LayerConfig("Layer", config ?? throw new ArgumentNullException(nameof(config))))
    {
    }

    private Layer(LayerConfig config) : this(config.Name, config.InputShape, config.DType)
    {
    }

    private readonly Dictionary<string, Regularizer> _regularizers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Constraint> _constraints = new(StringComparer.Ordinal);

    /// <summary>
    /// A penalty on the layer's output (Keras <c>activity_regularizer</c>), added to the loss during
    /// <c>Fit</c> and <c>Evaluate</c> divided by the batch size, as Keras does; null for none. Any layer
    /// can have one.
    /// </summary>
    public Regularizer? ActivityRegularizer { get; set; }

    /// <summary>
    /// The weights this layer can regularize or constrain, by the prefix of their config keys
    /// (<c>"kernel"</c> for <c>kernel_regularizer</c> and <c>kernel_constraint</c>) and their weight
    /// names; empty for layers without them.
    /// </summary>
    private protected virtual IReadOnlyDictionary<string, string> RegularizableWeights { get; } = new Dictionary<string, string>();

    /// <summary>The weight regularizers, by config-key prefix (<c>"kernel"</c>, <c>"recurrent"</c>, <c>"bias"</c>, ...).</summary>
    public IReadOnlyDictionary<string, Regularizer> WeightRegularizers => _regularizers;

    /// <summary>The weight constraints, by config-key prefix.</summary>
    public IReadOnlyDictionary<string, Constraint> WeightConstraints => _constraints;

    /// <summary>Sets the regularizer and constraint of one weight (null leaves it without).</summary>
    private protected void SetWeightRules(string prefix, Regularizer? regularizer, Constraint? constraint)
    {
        if (!RegularizableWeights.ContainsKey(prefix))
            throw new InvalidOperationException($"{GetType().Name} has no weight '{prefix}' to regularize.");
        if (regularizer is not null)
            _regularizers[prefix] = regularizer;
        if (constraint is not null)
            _constraints[prefix] = constraint;
    }

    /// <summary>This layer's own weights with a regularizer or a constraint (not those of wrapped layers).</summary>
    internal IEnumerable<(Parameter Weight, Regularizer? Regularizer, Constraint? Constraint)> RuledWeights()
    {
        if (_regularizers.Count == 0 && _constraints.Count == 0)
            yield break;
        var byName = new Dictionary<string, Parameter>(StringComparer.Ordinal);
        foreach (var (name, parameter) in named_parameters())
        {
            if (!name.Contains("_layer.", StringComparison.Ordinal) && !name.StartsWith("layer.", StringComparison.Ordinal))
                byName[name[(name.LastIndexOf('.') + 1)..]] = parameter;
        }
        foreach (var (prefix, weightName) in RegularizableWeights)
        {
            if (!byName.TryGetValue(weightName, out var weight))
                continue;
            var regularizer = _regularizers.GetValueOrDefault(prefix);
            var constraint = _constraints.GetValueOrDefault(prefix);
            if (regularizer is not null || constraint is not null)
                yield return (weight, regularizer, constraint);
        }
    }

    /// <summary>The layer's name, unique within a model.</summary>
    public string Name { get; }

    /// <summary>
    /// The declared shape of one input sample (no batch axis), or null; -1 marks a size known only
    /// when the model is called (Keras's <c>None</c>, as in <c>inputShape: [null, 14]</c>).
    /// </summary>
    public long[]? InputShape { get; }

    /// <summary>The element type of the weights and outputs.</summary>
    public ScalarType DType { get; }

    /// <summary>
    /// Whether the current call runs in training mode (Keras's <c>training</c> argument): the mode
    /// <c>Fit</c> (training), <c>Evaluate</c> and <c>Predict</c> (inference) set for their own calls on
    /// the calling thread, else the module's flag (<c>train()</c> / <c>eval()</c>).
    /// </summary>
    /// <remarks>
    /// Layers that act only in training (dropout, noise, batch statistics) read this. The flag of
    /// <c>train()</c>/<c>eval()</c> is shared by every thread using the model, so <c>Fit</c>,
    /// <c>Evaluate</c> and <c>Predict</c> never switch it: a <c>Predict</c> on one thread never sees
    /// dropout from a <c>Fit</c> on another, and leaves the flag as it found it.
    /// </remarks>
    public override bool training => CallMode.Current ?? base.training;

    /// <summary>Whether the weights exist.</summary>
    public bool Built { get; private set; }

    /// <summary>The sample shape the layer was built for (no batch axis), or null before building.</summary>
    public long[]? BuiltInputShape { get; private set; }

    /// <summary>The output sample shape (no batch axis), or null before building.</summary>
    public virtual long[]? OutputShape => BuiltInputShape is null ? null : ComputeOutputShape(BuiltInputShape);

    /// <summary>Marks the layer built for layers that build themselves another way (several inputs).</summary>
    private protected void MarkBuilt(long[] firstInputShape)
    {
        BuiltInputShape = firstInputShape;
        Built = true;
        if (!Trainable)
            Trainable = false;
    }

    /// <summary>What inputs the layer accepts now; after building, this includes the feature size.</summary>
    public abstract InputSpec InputSpec { get; }

    /// <summary>
    /// The weights in Keras's order (see each layer's documentation for the layout): the layer's own
    /// trainable weights, then its own non-trainable ones (such as BatchNormalization's moving
    /// statistics), then those of the layers it wraps.
    /// </summary>
    public virtual IReadOnlyList<Parameter> Weights =>
        [.. _trainableWeights, .. _nonTrainableWeights, .. WrappedLayers.SelectMany(l => l.Weights)];

    /// <summary>
    /// Whether training updates this layer's weights (Keras <c>trainable</c>). Setting it to false
    /// freezes the weights (and those of wrapped layers); weights that are never trained, such as
    /// moving statistics, stay out of the optimizer either way.
    /// </summary>
    public bool Trainable
    {
        get => _trainable;
        set
        {
            _trainable = value;
            foreach (var layer in WrappedLayers)
                layer.Trainable = value;
            var fixedWeights = NonTrainableVariables;
            foreach (var w in Weights)
                w.requires_grad = value && !fixedWeights.Contains(w);
        }
    }

    /// <summary>The weights that training updates: none when <see cref="Trainable"/> is false.</summary>
    public IReadOnlyList<Parameter> TrainableWeights
    {
        get
        {
            if (!Trainable)
                return [];
            var fixedWeights = NonTrainableVariables;
            return Weights.Where(w => !fixedWeights.Contains(w)).ToList();
        }
    }

    /// <summary>
    /// The weights that training leaves to the layer (Keras <c>non_trainable_weights</c>): moving
    /// statistics, or every weight when <see cref="Trainable"/> is false.
    /// </summary>
    public IReadOnlyList<Parameter> NonTrainableWeights
    {
        get
        {
            if (!Trainable)
                return Weights;
            var fixedWeights = NonTrainableVariables;
            return Weights.Where(fixedWeights.Contains).ToList();
        }
    }

    /// <summary>
    /// The weights created non-trainable (Keras <c>add_weight(trainable=False)</c>), here and in
    /// wrapped layers: never given to the optimizer, whatever <see cref="Trainable"/> says.
    /// </summary>
    internal virtual IReadOnlySet<Parameter> NonTrainableVariables =>
        new HashSet<Parameter>(_nonTrainableWeights.Concat(WrappedLayers.SelectMany(l => l.NonTrainableVariables)), ReferenceEqualityComparer.Instance);

    /// <summary>The weights an optimizer may update (all but <see cref="NonTrainableVariables"/>); frozen ones simply get no gradient.</summary>
    internal IReadOnlyList<Parameter> OptimizableWeights
    {
        get
        {
            var fixedWeights = NonTrainableVariables;
            return Weights.Where(w => !fixedWeights.Contains(w)).ToList();
        }
    }

    /// <summary>The layers this one wraps (Bidirectional's two, TimeDistributed's one); empty for plain layers.</summary>
    protected internal virtual IReadOnlyList<Layer> WrappedLayers => [];

    /// <summary>The Keras class name used in configs and summaries, e.g. <c>LSTM</c>.</summary>
    public virtual string ClassName => GetType().Name;

    /// <summary>Creates the weights for inputs of the given sample shape (no batch axis).</summary>
    /// <exception cref="ArgumentException">The shape does not fit the layer.</exception>
    /// <exception cref="InvalidOperationException">The layer is already built for another shape.</exception>
    public void Build(IReadOnlyList<long> sampleShape)
    {
        var shape = sampleShape.ToArray();
        if (Built)
        {
            InputSpec.Check(Name, WithBatch(shape));
            return;
        }
        InputSpec.Check(Name, WithBatch(shape));
        if (shape.Any(d => d <= 0 && d != -1))
            throw new ArgumentException($"Layer '{Name}' cannot be built for a shape with non-positive sizes (-1 marks an unknown size). Received: {ShapeText.Format(shape)}.");
        BuildCore(shape);
        BuiltInputShape = shape;
        Built = true;
        if (!Trainable)
            Trainable = false;
    }

    /// <summary>Creates the weights; <paramref name="sampleShape"/> has passed <see cref="InputSpec"/>.</summary>
    protected abstract void BuildCore(long[] sampleShape);

    /// <summary>The output sample shape for an input sample shape (both without the batch axis).</summary>
    public abstract long[] ComputeOutputShape(long[] sampleShape);

    /// <summary>
    /// Runs the layer on <paramref name="x"/> (batch axis first), building it on first use. The result
    /// is differentiable: <c>backward()</c> reaches the weights and <c>x.grad</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The input's rank or feature size does not fit the layer.</exception>
    public Tensor Call(Tensor x) => CallWithMask(x, null).Output;

    /// <summary>
    /// Runs the layer with a Keras mask and returns its output and the mask for the next layer
    /// (Keras passes masks between layers of a model the same way).
    /// </summary>
    /// <remarks>
    /// <para>A mask marks the time steps to use (<c>true</c>) and to skip (<c>false</c>); it has the
    /// input's leading axes, <c>(batch, timesteps)</c> for sequence input. Layers create masks
    /// (<see cref="Embedding"/> with <c>maskZero</c>, <see cref="Masking"/>), use them (recurrent
    /// layers skip masked steps, <see cref="GlobalAveragePooling1D"/> averages only unmasked ones)
    /// or pass them on unchanged (Dense, Dropout, Activation, normalization layers). Other layers
    /// (convolution, pooling, reshaping) drop the mask, as Keras does.</para>
    /// </remarks>
    /// <param name="x">The input, batch axis first.</param>
    /// <param name="mask">The incoming mask, or null; any non-zero value counts as <c>true</c>.</param>
    /// <returns>The output and its mask (null when there is none).</returns>
    /// <exception cref="ArgumentException">The input does not fit the layer, or the mask's batch size differs from the input's.</exception>
    public (Tensor Output, Tensor? Mask) CallWithMask(Tensor x, Tensor? mask)
    {
        var input = PrepareInput(x, ref mask);
        var output = mask is null ? forward(input) : ForwardMasked(input, mask);
        if (ActivityRegularizer is { } activity && ActivityPenalties.Collecting)
        {
            // As Keras: the penalty of the output, divided by the batch size.
            var penalty = activity.Compute(output);
            ActivityPenalties.Add(output.dim() > 0 && output.shape[0] > 0 ? penalty / output.shape[0] : penalty);
        }
        return (output, ComputeMask(x, mask));
    }

    /// <summary>
    /// What every call does before computing: checks the input against <see cref="InputSpec"/> and
    /// the mask against the input, builds the layer on first use, casts the input to
    /// <see cref="DType"/> and the mask to boolean.
    /// </summary>
    private protected Tensor PrepareInput(Tensor x, ref Tensor? mask)
    {
        ArgumentNullException.ThrowIfNull(x);
        var shape = x.shape;
        InputSpec.Check(Name, shape);
        if (mask is not null)
        {
            if (mask.dim() < 1 || mask.dim() > shape.Length || !mask.shape.SequenceEqual(shape[..(int)mask.dim()]))
                throw new ArgumentException(
                    $"The mask passed to layer '{Name}' must have the input's leading axes, e.g. {ShapeText.Format(shape[..Math.Min(2, shape.Length)])}. " +
                    $"Received: mask shape {ShapeText.Format(mask.shape)} for input shape {ShapeText.Format(shape)}.", nameof(mask));
            if (mask.dtype != ScalarType.Bool)
                mask = mask.ne(0);
        }
        if (!Built)
            Build(shape[1..]);
        return x.dtype != DType && CastsInput ? x.to_type(DType) : x;
    }

    /// <summary>
    /// The layer's computation with the incoming mask (never null here). Layers that use masks
    /// override this; the default ignores the mask and calls <c>forward</c>.
    /// </summary>
    protected virtual Tensor ForwardMasked(Tensor x, Tensor mask) => forward(x);

    /// <summary>Whether the layer passes an incoming mask on unchanged (Keras <c>supports_masking</c>).</summary>
    protected virtual bool SupportsMasking => false;

    /// <summary><see cref="SupportsMasking"/>, for the ONNX exporter.</summary>
    internal bool PassesMask => SupportsMasking;

    /// <summary>
    /// The mask of the output for an input and its mask (Keras <c>compute_mask</c>): by default the
    /// incoming mask when <see cref="SupportsMasking"/>, else none.
    /// </summary>
    /// <param name="input">The layer's input (before any cast).</param>
    /// <param name="mask">The incoming mask (boolean), or null.</param>
    protected internal virtual Tensor? ComputeMask(Tensor input, Tensor? mask) => SupportsMasking ? mask : null;

    /// <summary>Resets carried states (stateful recurrent layers, and wrappers of them); nothing for other layers.</summary>
    internal virtual void ResetStatesCore()
    {
        foreach (var layer in WrappedLayers)
            layer.ResetStatesCore();
    }

    /// <summary>
    /// Whether a call returns states besides the output (recurrent layers with <c>returnState</c>);
    /// a <see cref="Sequential"/> model, which passes one tensor between layers, refuses such layers.
    /// </summary>
    protected internal virtual bool ReturnsStates => false;

    /// <summary>Whether inputs are cast to <see cref="DType"/> first, as Keras does (false for index inputs such as embeddings).</summary>
    protected virtual bool CastsInput => true;

    /// <summary>Copies of the weights, in Keras's order and layout.</summary>
    public IReadOnlyList<Tensor> GetWeights()
    {
        using var _ = torch.no_grad();
        return Weights.Select(w => w.detach().clone()).ToList();
    }

    /// <summary>
    /// Replaces the weights with the given values (Keras order and layout). All shapes are checked
    /// before anything is written.
    /// </summary>
    /// <exception cref="InvalidOperationException">The layer is not built yet.</exception>
    /// <exception cref="ArgumentException">Wrong number of tensors or a wrong shape.</exception>
    public void SetWeights(IReadOnlyList<Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (!Built)
            throw new InvalidOperationException($"Layer '{Name}' has no weights yet: build it (or add it to a model with a known input shape) before calling SetWeights().");
        var own = Weights;
        if (weights.Count != own.Count)
            throw new ArgumentException(
                $"Layer '{Name}' expects {own.Count} weight tensors ({string.Join(", ", own.Select(w => ShapeText.Format(w.shape)))}). Received: {weights.Count}.", nameof(weights));
        for (int k = 0; k < own.Count; k++)
        {
            if (weights[k] is null || !weights[k].shape.SequenceEqual(own[k].shape))
                throw new ArgumentException(
                    $"Weight {k} of layer '{Name}' must have shape {ShapeText.Format(own[k].shape)}. Received: {(weights[k] is null ? "null" : ShapeText.Format(weights[k].shape))}.",
                    nameof(weights));
        }
        using var _ = torch.no_grad();
        for (int k = 0; k < own.Count; k++)
            own[k].copy_(weights[k]);
    }

    /// <summary>The number of weight elements (trainable or not).</summary>
    public long CountParams() => Weights.Sum(w => w.numel());

    /// <summary>
    /// Rebuilds a layer from its Keras class name and config (what <see cref="GetConfig"/> returns,
    /// or the same values read from JSON): <c>Layer.FromConfig("LSTM", lstm.GetConfig())</c> makes an
    /// unbuilt LSTM with the same arguments. Values may be CLR values or <c>JsonElement</c>s.
    /// </summary>
    /// <param name="className">The Keras class name, e.g. <c>"LSTM"</c>, <c>"Dense"</c>, <c>"Bidirectional"</c>.</param>
    /// <param name="config">The config; keys Keras has but SeqSharp does not use are ignored.</param>
    /// <returns>A new, unbuilt layer.</returns>
    /// <exception cref="ArgumentException">An unknown class name (the message lists the known ones), a missing required key, or a value of the wrong kind.</exception>
    /// <exception cref="NotSupportedException">The config sets a regularizer or constraint, which SeqSharp does not implement.</exception>
    public static Layer FromConfig(string className, IReadOnlyDictionary<string, object?> config) => FromFileConfig(className, className, config);

    /// <summary>
    /// <see cref="FromConfig"/> for an entry of a model
    /// file: a custom object named <paramref name="registeredName"/> (the load's <c>customObjects</c>,
    /// then <see cref="CustomObjects"/>) comes first, as in Keras; a null name (Keras 3's built-in
    /// classes) goes straight to SeqSharp's layers.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown class, a custom object that is not a layer type, or a bad config.</exception>
    internal static Layer FromFileConfig(string className, string? registeredName, IReadOnlyDictionary<string, object?> config)
    {
        ArgumentNullException.ThrowIfNull(className);
        ArgumentNullException.ThrowIfNull(config);
        var reader = new LayerConfig(className, config);
        Layer layer;
        if (Saving.CustomObjectScope.Find(registeredName) is var (customName, custom))
        {
            layer = custom is Type type && typeof(Layer).IsAssignableFrom(type)
                ? FromCustomType(type, config)
                : throw new ArgumentException(
                    $"The custom object '{customName}' is {CustomObjects.Describe(custom)}; a layer of class '{className}' needs the Type of a Layer subclass.");
        }
        else if (!IsBuiltIn(className, registeredName))
        {
            throw new ArgumentException($"Unknown layer class '{className}': {UnknownLayerHelp(className, registeredName)}", nameof(className));
        }
        else
        {
            layer = LayerRegistry.Create(reader);
            layer.ReadWeightRules(reader);
        }
        if (!reader.Trainable)
            layer.Trainable = false;
        return layer;
    }

    /// <summary>Whether a file's class is one of SeqSharp's layers: a known class not registered under another name.</summary>
    internal static bool IsBuiltIn(string className, string? registeredName) =>
        (registeredName is null || registeredName == className) && LayerRegistry.Names.Contains(className);

    /// <summary>What to do about a layer class that is neither SeqSharp's nor a supplied custom object.</summary>
    internal static string UnknownLayerHelp(string className, string? registeredName)
    {
        string key = registeredName ?? className;
        return $"it is neither a layer SeqSharp has nor a custom object{(key != className ? $" (it is registered as '{key}')" : "")}. " +
            "If it is a layer of your own, write it in C# as a Layer subclass with GetConfig() and a public constructor taking IReadOnlyDictionary<string, object?> config, " +
            $"and supply it: Sequential.Load(path, customObjects: new Dictionary<string, object> {{ [\"{key}\"] = typeof(YourLayer) }}) or CustomObjects.Register(\"{key}\", typeof(YourLayer)). " +
            $"SeqSharp's layers: {string.Join(", ", LayerRegistry.Names)}.";
    }

    /// <summary>
    /// A user-defined layer from its config: its public constructor taking the whole config as an
    /// <c>IReadOnlyDictionary&lt;string, object?&gt;</c> (values as <see cref="GetConfig"/> gave them, numbers
    /// as <c>long</c> or <c>double</c>, lists as <c>List&lt;object?&gt;</c>, nested objects as dictionaries).
    /// </summary>
    private static Layer FromCustomType(Type type, IReadOnlyDictionary<string, object?> config)
    {
        var constructor = type.GetConstructors().FirstOrDefault(c => c.GetParameters() is [var p] && p.ParameterType.IsAssignableFrom(typeof(Dictionary<string, object?>)))
            ?? throw new ArgumentException(
                $"Layer type {type.FullName} has no config constructor. Add `public {type.Name}(IReadOnlyDictionary<string, object?> config) : base(config)`, " +
                "reading the keys its GetConfig() writes, so that a saved model can rebuild it.");
        var values = (Dictionary<string, object?>)LayerConfig.Normalize(config.ToDictionary(p => p.Key, p => p.Value))!;
        try
        {
            return (Layer)constructor.Invoke([values]);
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
        {
            throw new ArgumentException($"The config constructor of {type.FullName} failed: {e.InnerException.Message}", e.InnerException);
        }
    }

    /// <summary>The constructor arguments by their Keras names, enough to rebuild the layer (see <see cref="FromConfig"/>).</summary>
    public virtual Dictionary<string, object?> GetConfig()
    {
        var config = new Dictionary<string, object?>
        {
            ["name"] = Name,
            ["trainable"] = Trainable,
            ["dtype"] = DType == ScalarType.Float64 ? "float64" : "float32",
        };
        if (InputShape is not null)
            config["batch_input_shape"] = new long?[] { null }.Concat(InputShape.Select(d => d == -1 ? null : (long?)d)).ToArray();
        foreach (var (prefix, regularizer) in _regularizers)
            config[prefix + "_regularizer"] = Serialized(regularizer.ClassName, regularizer.GetConfig());
        if (ActivityRegularizer is not null)
            config["activity_regularizer"] = Serialized(ActivityRegularizer.ClassName, ActivityRegularizer.GetConfig());
        foreach (var (prefix, constraint) in _constraints)
            config[prefix + "_constraint"] = Serialized(constraint.ClassName, constraint.GetConfig());
        return config;
    }

    /// <summary>
    /// Creates, registers and returns a weight (Keras <c>add_weight</c>). A non-trainable weight
    /// (<paramref name="trainable"/> false) has no gradient and is updated by the layer itself.
    /// </summary>
    protected Parameter AddWeight(string name, long[] shape, Initializer initializer, bool trainable = true)
    {
        if (shape.Any(d => d < 0))
            throw new ArgumentException(
                $"Layer '{Name}' cannot create its weight '{name}' of shape {ShapeText.Format(shape)}: a size it depends on is unknown (None). " +
                "The axes a layer's weights depend on (the last one, for most layers) must be known when it is built; only others, such as the time axis, may be None.");
        var weight = CreateWeight(shape, initializer, DType);
        register_parameter(name, weight);
        if (trainable)
        {
            _trainableWeights.Add(weight);
        }
        else
        {
            weight.requires_grad = false;
            _nonTrainableWeights.Add(weight);
        }
        return weight;
    }

    private static Dictionary<string, object?> Serialized(string className, Dictionary<string, object?> config) =>
        new() { ["class_name"] = className, ["config"] = config };

    /// <summary>
    /// Reads <c>*_regularizer</c>, <c>activity_regularizer</c> and <c>*_constraint</c> keys: Keras's
    /// serialized objects or names. A key for a weight this layer has no rules for is refused rather
    /// than silently dropped.
    /// </summary>
    private void ReadWeightRules(LayerConfig reader)
    {
        if (reader.Regularizer("activity_regularizer") is { } activity)
            ActivityRegularizer = activity;
        foreach (var key in reader.Keys)
        {
            string? prefix = key.EndsWith("_regularizer", StringComparison.Ordinal) ? key[..^"_regularizer".Length]
                : key.EndsWith("_constraint", StringComparison.Ordinal) ? key[..^"_constraint".Length] : null;
            if (prefix is null || prefix == "activity" || !reader.Has(key))
                continue;
            if (!RegularizableWeights.ContainsKey(prefix))
                throw new NotSupportedException(
                    $"Layer config for '{reader.ClassName}' sets '{key}', but SeqSharp's {ClassName} has no regularizers or constraints for '{prefix}'. " +
                    $"Supported: {(RegularizableWeights.Count == 0 ? "activity_regularizer only" : string.Join(", ", RegularizableWeights.Keys.Select(k => k + "_regularizer, " + k + "_constraint")) + ", activity_regularizer")}.");
            if (key.EndsWith("_regularizer", StringComparison.Ordinal))
                SetWeightRules(prefix, reader.Regularizer(key), null);
            else
                SetWeightRules(prefix, null, reader.Constraint(key));
        }
    }

    /// <summary>A new parameter that no dispose scope owns: weights live as long as their layer.</summary>
    internal static Parameter CreateWeight(long[] shape, Initializer initializer, ScalarType dtype)
    {
        if (DeclaredWeights.Active)
            return DeclaredWeights.Placeholder(shape, dtype);
        using var scope = torch.NewDisposeScope();
        var values = initializer.Create(shape, dtype);
        if (!values.shape.SequenceEqual(shape) || values.dtype != dtype)
            throw new InvalidOperationException(
                $"Initializer {initializer.ClassName} returned shape {ShapeText.Format(values.shape)} of {values.dtype}; expected {ShapeText.Format(shape)} of {dtype}.");
        var weight = new Parameter(values.detach().clone(), requires_grad: true);
        weight.DetachFromDisposeScope();
        return weight;
    }

    private static long[] WithBatch(long[] sampleShape) => [-1, .. sampleShape];

    /// <inheritdoc />
    public override string ToString() => $"{GetType().Name} '{Name}'";
}
