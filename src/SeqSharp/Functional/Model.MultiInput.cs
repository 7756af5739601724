using SeqSharp.Callbacks;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp;

public partial class Model
{
    /// <summary>
    /// Trains a model with several inputs (Keras <c>fit([x1, x2], y)</c>): one array per input, in
    /// the order of <see cref="Inputs"/>, all with the same samples. Every other argument is as for
    /// <see cref="Fit(Tensor, Tensor, int, int, int, IReadOnlyList{Callback}?, double, ValueTuple{Tensor, Tensor}?, bool, IReadOnlyDictionary{int, double}?, Tensor?, int, CancellationToken)"/>;
    /// the inputs are split, shuffled and sharded together.
    /// </summary>
    /// <exception cref="ArgumentException">The wrong number of arrays for the model's inputs, an array whose shape does not fit its input, or different sample counts; nothing is changed.</exception>
    public History Fit(IReadOnlyList<Tensor> x, Tensor y, int batchSize = 32, int epochs = 1, int verbose = 1,
        IReadOnlyList<Callback>? callbacks = null, double validationSplit = 0.0, (IReadOnlyList<Tensor> X, Tensor Y)? validationData = null,
        bool shuffle = true, IReadOnlyDictionary<int, double>? classWeight = null, Tensor? sampleWeight = null, int initialEpoch = 0,
        CancellationToken cancellationToken = default)
    {
        using var scope = torch.NewDisposeScope();
        using var keep = KeepLayout();
        var packed = PackInputs(x, nameof(x));
        (Tensor X, Tensor Y)? validation = null;
        if (validationData is { } v)
        {
            var layout = _inputLayout.Value;
            var packedValidation = PackInputs(v.X, "validationData.X");
            if (_inputs.Count > 1 && !SameShapes(layout!, _inputLayout.Value!))
                throw new ArgumentException(
                    $"The validation inputs' sample shapes ({string.Join(", ", _inputLayout.Value!.Shapes.Select(SeqSharp.Layers.ShapeText.WithBatch))}) differ from the training inputs' ({string.Join(", ", layout!.Shapes.Select(SeqSharp.Layers.ShapeText.WithBatch))}).",
                    nameof(validationData));
            validation = (packedValidation, v.Y);
        }
        return Fit(packed, y, batchSize, epochs, verbose, callbacks, validationSplit, validation, shuffle, classWeight, sampleWeight, initialEpoch, cancellationToken);
    }

    /// <summary>Evaluates a model with several inputs: one array per input, in the order of <see cref="Inputs"/>.</summary>
    /// <inheritdoc cref="Evaluate(Tensor, Tensor, int, int, Tensor?, IReadOnlyList{Callback}?, CancellationToken)"/>
    public IReadOnlyDictionary<string, double> Evaluate(IReadOnlyList<Tensor> x, Tensor y, int batchSize = 32, int verbose = 1,
        Tensor? sampleWeight = null, IReadOnlyList<Callback>? callbacks = null, CancellationToken cancellationToken = default)
    {
        using var scope = torch.NewDisposeScope();
        using var keep = KeepLayout();
        return Evaluate(PackInputs(x, nameof(x)), y, batchSize, verbose, sampleWeight, callbacks, cancellationToken);
    }

    /// <summary>Predicts with a model with several inputs: one array per input, in the order of <see cref="Inputs"/>; the model has one output.</summary>
    /// <inheritdoc cref="Predict(Tensor, int, int, IReadOnlyList{Callback}?, CancellationToken)"/>
    public Tensor Predict(IReadOnlyList<Tensor> x, int batchSize = 32, int verbose = 1, IReadOnlyList<Callback>? callbacks = null,
        CancellationToken cancellationToken = default)
    {
        RequireOneOutput(nameof(Predict));
        using var scope = torch.NewDisposeScope();
        using var keep = KeepLayout();
        return Predict(PackInputs(x, nameof(x)), batchSize, verbose, callbacks, cancellationToken).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Predicts every output of the model (Keras's <c>predict</c> on a model with several outputs,
    /// which returns a list): one tensor per output, in the order of <see cref="Outputs"/>, such as
    /// an encoder's final states.
    /// </summary>
    /// <param name="x">The input of a single-input model.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="verbose">0 silent, 1 progress bar, 2 one line.</param>
    /// <returns>One float32 tensor <c>(samples, ...)</c> per output.</returns>
    /// <exception cref="ArgumentException">The input does not fit the model.</exception>
    public IReadOnlyList<Tensor> PredictMulti(Tensor x, int batchSize = 32, int verbose = 1) => PredictMulti([x], batchSize, verbose);

    /// <summary>Predicts every output of a model with several inputs: one array per input, in the order of <see cref="Inputs"/>.</summary>
    /// <inheritdoc cref="PredictMulti(Tensor, int, int)"/>
    public IReadOnlyList<Tensor> PredictMulti(IReadOnlyList<Tensor> x, int batchSize = 32, int verbose = 1)
    {
        if (this is Sequential)
        {
            ArgumentNullException.ThrowIfNull(x);
            if (x.Count != 1)
                throw new ArgumentException($"A Sequential model has one input. Received {x.Count} arrays.", nameof(x));
            return [Predict(x[0], batchSize, verbose)];
        }
        using var scope = torch.NewDisposeScope();
        using var keep = KeepLayout();
        var packed = PredictTensor(PackInputs(x, nameof(x)), batchSize, verbose, null, default);
        if (_outputs.Count == 1)
            return [packed.MoveToOuterDisposeScope()];
        var layout = _outputLayout.Value ?? throw new InvalidOperationException("The output layout of the prediction is unknown.");
        return layout.Unpack(packed).Select(t => t.contiguous().to_type(ScalarType.Float32).MoveToOuterDisposeScope()).ToList();
    }

    /// <summary>Restores this thread's packing layouts when a multi-input call ends, so that no later call unpacks with them.</summary>
    private LayoutScope KeepLayout() => new(this, _inputLayout.Value, _outputLayout.Value, _targetLayout.Value);

    private readonly struct LayoutScope(Model model, PackLayout? input, PackLayout? output, PackLayout? target) : IDisposable
    {
        public void Dispose()
        {
            model._inputLayout.Value = input;
            model._outputLayout.Value = output;
            model._targetLayout.Value = target;
        }
    }

    private void RequireOneOutput(string method)
    {
        if (_outputs.Count > 1)
            throw new InvalidOperationException(
                $"Model '{Name}' has {_outputs.Count} outputs ({string.Join(", ", OutputNames)}): {method} returns one tensor. Use PredictMulti, which returns one per output.");
    }

    private static bool SameShapes(PackLayout a, PackLayout b) =>
        a.Shapes.Count == b.Shapes.Count && a.Shapes.Zip(b.Shapes).All(p => p.First.SequenceEqual(p.Second));
}
