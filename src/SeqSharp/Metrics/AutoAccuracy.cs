using SeqSharp.Losses;
using static TorchSharp.torch;

namespace SeqSharp.Metrics;

/// <summary>
/// The metric behind the strings <c>"accuracy"</c> and <c>"acc"</c>: on its first update it picks,
/// from the shapes, the accuracy Keras 3 would pick (<c>compile_utils.get_metric</c>), and keeps
/// the name it was given:
/// <list type="bullet">
/// <item><see cref="BinaryAccuracy"/> when <c>y_pred</c>'s last axis has size 1;</item>
/// <item>otherwise <see cref="SparseCategoricalAccuracy"/> when <c>y_true</c> has a lower rank than
/// <c>y_pred</c>, or its last axis has size 1 while <c>y_pred</c>'s is larger;</item>
/// <item>otherwise <see cref="CategoricalAccuracy"/>.</item>
/// </list>
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "binary_crossentropy", metrics: ["accuracy"]);   // binary accuracy, logged as "accuracy"
/// </code>
/// </example>
public sealed class AutoAccuracy : Metric
{
    /// <summary>Creates the metric.</summary>
    /// <param name="name">Default <c>"accuracy"</c>.</param>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public AutoAccuracy(string? name = null) : base(name ?? "accuracy") { }

    /// <summary>The accuracy chosen on the first update (named like this metric), or null before it.</summary>
    public Metric? Resolved { get; private set; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Scalar inputs, or shapes the chosen accuracy does not accept.</exception>
    public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null)
    {
        Resolved ??= Resolve(yTrue, yPred);
        Resolved.UpdateState(yTrue, yPred, sampleWeight);
    }

    /// <inheritdoc />
    public override double Result() => Resolved?.Result() ?? 0.0;

    /// <summary>Forgets the values seen so far; the accuracy chosen stays.</summary>
    public override void ResetState() => Resolved?.ResetState();

    /// <inheritdoc />
    protected internal override double[]? SummableState() => Resolved?.SummableState();

    /// <inheritdoc />
    protected internal override void LoadSummableState(double[] state) =>
        (Resolved ?? throw new InvalidOperationException($"Metric '{Name}' has seen no batch yet.")).LoadSummableState(state);

    private Metric Resolve(Tensor yTrue, Tensor yPred)
    {
        ArgumentNullException.ThrowIfNull(yTrue);
        ArgumentNullException.ThrowIfNull(yPred);
        if (yTrue.dim() == 0 || yPred.dim() == 0)
            throw new ArgumentException(
                $"{Who} expected y_true and y_pred of rank 1 or more. Received: y_true.shape={LossInputs.Shape(yTrue)}, y_pred.shape={LossInputs.Shape(yPred)}.");
        long trueLast = yTrue.shape[^1], predLast = yPred.shape[^1];
        if (predLast == 1)
            return new BinaryAccuracy(name: Name);
        if (yTrue.dim() < yPred.dim() || (trueLast == 1 && predLast > 1))
            return new SparseCategoricalAccuracy(Name);
        return new CategoricalAccuracy(Name);
    }
}
