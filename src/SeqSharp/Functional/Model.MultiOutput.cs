using SeqSharp.Callbacks;
using SeqSharp.Losses;
using SeqSharp.Metrics;
using SeqSharp.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp;

public partial class Model
{
    private readonly AsyncLocal<PackLayout?> _targetLayout = new();

    /// <summary>
    /// Configures training of a model with several outputs (Keras <c>compile</c> with a list of
    /// losses): one loss per output in the order of <see cref="Outputs"/> (null for an output that
    /// is not trained), their weights in the total loss (Keras <c>loss_weights</c>, 1 by default), and
    /// the metrics of each output. Logs name them as Keras does: <c>loss</c> (the weighted total),
    /// <c>{output}_loss</c>, <c>{output}_{metric}</c>, with <c>val_</c> before each for validation.
    /// </summary>
    /// <param name="optimizer">The optimizer; <c>"rmsprop"</c> when null.</param>
    /// <param name="loss">One loss per output.</param>
    /// <param name="lossWeights">One weight per output, or null for 1 each.</param>
    /// <param name="metrics">One list of metrics (names or <see cref="Metric"/> objects) per output, or null.</param>
    /// <exception cref="ArgumentException">Lists of the wrong length, unknown names, a Metric object given for two outputs, or two metrics of one name.</exception>
    public void Compile(Optimizer? optimizer, IReadOnlyList<Loss?> loss, IReadOnlyList<double>? lossWeights = null,
        IReadOnlyList<IReadOnlyList<object>?>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        using var gate = _trainingGate.Enter(Name, nameof(Compile));
        CompileOutputs(optimizer, loss, lossWeights, metrics);
    }

    /// <summary>
    /// Configures training of a model with several outputs by output name (Keras <c>compile</c> with
    /// dicts): outputs not named get no loss (and no metrics).
    /// </summary>
    /// <inheritdoc cref="Compile(Optimizer?, IReadOnlyList{Loss?}, IReadOnlyList{double}?, IReadOnlyList{IReadOnlyList{object}?}?)"/>
    /// <exception cref="ArgumentException">A name that is not one of <see cref="OutputNames"/>, or as for the list form.</exception>
    public void Compile(Optimizer? optimizer, IReadOnlyDictionary<string, Loss> loss, IReadOnlyDictionary<string, double>? lossWeights = null,
        IReadOnlyDictionary<string, IReadOnlyList<object>>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        var names = OutputNames;
        void Known(IEnumerable<string> keys, string parameter)
        {
            foreach (var key in keys)
            {
                if (!names.Contains(key))
                    throw new ArgumentException($"'{key}' is not an output of model '{Name}'. Its outputs are: {string.Join(", ", names)}.", parameter);
            }
        }
        Known(loss.Keys, nameof(loss));
        Known(lossWeights?.Keys ?? [], nameof(lossWeights));
        Known(metrics?.Keys ?? [], nameof(metrics));
        using var gate = _trainingGate.Enter(Name, nameof(Compile));
        CompileOutputs(optimizer, names.Select(n => loss.GetValueOrDefault(n)).ToList(),
            names.Select(n => lossWeights?.GetValueOrDefault(n, 1.0) ?? 1.0).ToList(),
            names.Select(n => metrics?.GetValueOrDefault(n)).ToList());
    }

    private void CompileOutputs(Optimizer? optimizer, IReadOnlyList<Loss?>? losses, IReadOnlyList<double>? weights, IReadOnlyList<IReadOnlyList<object>?>? metrics)
    {
        int n = _outputs.Count;
        if (n < 2)
            throw new ArgumentException($"Model '{Name}' has one output: compile it with one loss, Compile(optimizer, loss, metrics).");
        if (losses is not null && losses.Count != n)
            throw new ArgumentException($"Model '{Name}' has {n} outputs ({string.Join(", ", OutputNames)}); 'loss' holds {losses.Count} losses. Give one per output (null for none).", "loss");
        if (weights is not null && weights.Count != n)
            throw new ArgumentException($"Model '{Name}' has {n} outputs; 'lossWeights' holds {weights.Count} weights.", "lossWeights");
        if (weights is not null && weights.Any(w => !double.IsFinite(w) || w < 0))
            throw new ArgumentException($"Expected finite, non-negative loss weights. Received: [{string.Join(", ", weights)}].", "lossWeights");
        if (metrics is not null && metrics.Count != n)
            throw new ArgumentException($"Model '{Name}' has {n} outputs; 'metrics' holds {metrics.Count} lists. Give one list (or null) per output.", "metrics");
        var names = OutputNames;
        var list = new List<Metric>();
        var seen = new HashSet<Metric>(ReferenceEqualityComparer.Instance);
        for (int k = 0; k < n; k++)
        {
            if (losses?[k] is { } loss)
                list.Add(new OutputLossMetric(this, k, names[k], loss));
        }
        for (int k = 0; k < n; k++)
        {
            foreach (var metric in ParseMetrics(metrics?[k], "metrics"))
            {
                if (!seen.Add(metric))
                    throw new ArgumentException($"Metric object '{metric.Name}' is given for two outputs; give each output its own Metric (or use names).", "metrics");
                list.Add(new OutputMetric(this, k, names[k], metric));
            }
        }
        RequireDistinct(list, ["loss"], "metrics");
        _optimizer = optimizer ?? Optimizer.Get("rmsprop");
        _loss = losses is null ? null : new MultiOutputLoss(this, losses, weights ?? Enumerable.Repeat(1.0, n).ToList());
        _metrics = list;
    }

    /// <summary>
    /// Trains a model with several outputs (Keras <c>fit(x, [y1, y2])</c>): one target array per
    /// output, in the order of <see cref="Outputs"/>. Other arguments are as for the single-output
    /// <c>Fit</c>; class weights are refused, as Keras refuses them for several outputs.
    /// </summary>
    /// <exception cref="ArgumentException">The wrong number of target arrays, or one that does not fit its output or its loss; nothing is changed.</exception>
    public History Fit(Tensor x, IReadOnlyList<Tensor> y, int batchSize = 32, int epochs = 1, int verbose = 1,
        IReadOnlyList<Callback>? callbacks = null, double validationSplit = 0.0, (Tensor X, IReadOnlyList<Tensor> Y)? validationData = null,
        bool shuffle = true, Tensor? sampleWeight = null, int initialEpoch = 0, CancellationToken cancellationToken = default) =>
        Fit([x], y, batchSize, epochs, verbose, callbacks, validationSplit, validationData is { } v ? ([v.X], v.Y) : null, shuffle, sampleWeight,
            initialEpoch, cancellationToken);

    /// <summary>Trains a model with several inputs and several outputs: one array per input and one target array per output.</summary>
    /// <inheritdoc cref="Fit(Tensor, IReadOnlyList{Tensor}, int, int, int, IReadOnlyList{Callback}?, double, ValueTuple{Tensor, IReadOnlyList{Tensor}}?, bool, Tensor?, int, CancellationToken)"/>
    public History Fit(IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y, int batchSize = 32, int epochs = 1, int verbose = 1,
        IReadOnlyList<Callback>? callbacks = null, double validationSplit = 0.0, (IReadOnlyList<Tensor> X, IReadOnlyList<Tensor> Y)? validationData = null,
        bool shuffle = true, Tensor? sampleWeight = null, int initialEpoch = 0, CancellationToken cancellationToken = default)
    {
        using var scope = torch.NewDisposeScope();
        using var keep = KeepLayout();
        var (_, loss) = RequireCompiled(nameof(Fit));
        (Tensor X, Tensor Y)? validation = null;
        if (validationData is { } v)
        {
            var vx = PackInputs(v.X, "validationData.X");
            var vy = PackTargets(v.Y, loss, "validationData.Y");
            validation = (vx, vy);
        }
        var validationLayout = _targetLayout.Value;
        var px = PackInputs(x, nameof(x));
        var py = PackTargets(y, loss, nameof(y));
        if (validationLayout is not null && !SameShapes(validationLayout, _targetLayout.Value!))
            throw new ArgumentException("The validation targets' sample shapes differ from the training targets'.", nameof(validationData));
        return Fit(px, py, batchSize, epochs, verbose, callbacks, validationSplit, validation, shuffle, null, sampleWeight, initialEpoch, cancellationToken);
    }

    /// <summary>Evaluates a model with several outputs: one target array per output; returns <c>loss</c>, <c>{output}_loss</c> and <c>{output}_{metric}</c>.</summary>
    /// <inheritdoc cref="Evaluate(Tensor, Tensor, int, int, Tensor?, IReadOnlyList{Callback}?, CancellationToken)"/>
    public IReadOnlyDictionary<string, double> Evaluate(Tensor x, IReadOnlyList<Tensor> y, int batchSize = 32, int verbose = 1,
        Tensor? sampleWeight = null, IReadOnlyList<Callback>? callbacks = null, CancellationToken cancellationToken = default) =>
        Evaluate([x], y, batchSize, verbose, sampleWeight, callbacks, cancellationToken);

    /// <summary>Evaluates a model with several inputs and outputs.</summary>
    /// <inheritdoc cref="Evaluate(Tensor, IReadOnlyList{Tensor}, int, int, Tensor?, IReadOnlyList{Callback}?, CancellationToken)"/>
    public IReadOnlyDictionary<string, double> Evaluate(IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y, int batchSize = 32, int verbose = 1,
        Tensor? sampleWeight = null, IReadOnlyList<Callback>? callbacks = null, CancellationToken cancellationToken = default)
    {
        using var scope = torch.NewDisposeScope();
        using var keep = KeepLayout();
        var (_, loss) = RequireCompiled(nameof(Evaluate));
        var px = PackInputs(x, nameof(x));
        return Evaluate(px, PackTargets(y, loss, nameof(y)), batchSize, verbose, sampleWeight, callbacks, cancellationToken);
    }

    /// <summary>
    /// Checks each output's targets against the output's shape, loss and metrics (as the single-output
    /// path checks its one target), then packs them and sets the layout for this call.
    /// </summary>
    private Tensor PackTargets(IReadOnlyList<Tensor> y, Loss loss, string what)
    {
        ArgumentNullException.ThrowIfNull(y, what);
        if (_outputs.Count < 2)
            throw new ArgumentException($"Model '{Name}' has one output: pass its targets as one tensor.", what);
        if (y.Count != _outputs.Count)
            throw new ArgumentException(
                $"Model '{Name}' has {_outputs.Count} outputs ({string.Join(", ", OutputNames)}); '{what}' holds {y.Count} target array(s). Pass one per output, in that order.", what);
        var inputShapes = _inputs.Count == 1 ? [_inputs[0].SampleShape] : CurrentInputShapes();
        var outputs = GraphOutputShapes(inputShapes);
        var multi = loss as MultiOutputLoss;
        var matched = new List<Tensor>();
        for (int k = 0; k < y.Count; k++)
        {
            string name = $"{what}[{k}] (output '{OutputNames[k]}')";
            if (y[k] is null || y[k].dim() < 1)
                throw new ArgumentException($"{name} must be an array with the samples first.", what);
            if (y[k].is_complex())
                throw new ArgumentException($"Expected real-valued targets. Received: {name}.dtype={y[k].dtype}.", what);
            long samples = y[k].shape[0];
            long[] output = [samples, .. outputs[k]];
            var target = y[k].is_floating_point() ? y[k].to_type(_outputs[k].DType) : y[k];
            RequireFinite(target, name);
            if (multi?.Losses[k] is { } outputLoss)
            {
                target = MatchTargets(target, output, outputLoss, name);
                outputLoss.CheckTargets(target, output, name);
            }
            foreach (var metric in _metrics.OfType<OutputMetric>().Where(m => m.Output == k))
                metric.Inner.CheckTargets(target, output, name);
            matched.Add(target);
        }
        var (packed, layout) = PackLayout.Pack(matched);
        _targetLayout.Value = layout;
        return packed;
    }

    /// <summary>One target tensor per output, from the packed targets of the call in progress.</summary>
    internal IReadOnlyList<Tensor> UnpackTargets(Tensor packed) =>
        (_targetLayout.Value ?? throw new InvalidOperationException($"Model '{Name}': the targets' layout is unknown (targets of a multi-output model are passed as a list).")).Unpack(packed);

    /// <summary>One prediction per output, from the packed predictions of the call in progress.</summary>
    internal IReadOnlyList<Tensor> UnpackPredictions(Tensor packed) =>
        (_outputLayout.Value ?? throw new InvalidOperationException($"Model '{Name}': the outputs' layout is unknown.")).Unpack(packed);
}
