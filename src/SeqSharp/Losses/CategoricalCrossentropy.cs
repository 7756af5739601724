using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>
/// Categorical crossentropy for one-hot (or probability) targets: <c>-Σ y·log p</c> over the class
/// axis. For <c>y_pred</c> of shape <c>(batch, classes)</c> the values have shape <c>(batch,)</c>;
/// for <c>(batch, timesteps, classes)</c>, <c>(batch, timesteps)</c>.
/// </summary>
/// <remarks>
/// Without <see cref="FromLogits"/>, predictions are divided by their sum along the class axis and
/// clipped to <c>[1e-7, 1 - 1e-7]</c> (as Keras does); with it, <c>log_softmax</c> is used. Label
/// smoothing replaces <c>y</c> by <c>y·(1 - s) + s / classes</c>. For integer labels use
/// <see cref="SparseCategoricalCrossentropy"/>.
/// </remarks>
/// <example>
/// <code>
/// model.Add(new Dense(10, activation: "softmax"));
/// model.Compile(optimizer: "adam", loss: "categorical_crossentropy");
/// </code>
/// </example>
public sealed class CategoricalCrossentropy : Loss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="fromLogits">Whether <c>y_pred</c> holds logits rather than probabilities.</param>
    /// <param name="labelSmoothing">In [0, 1]; 0 for none.</param>
    /// <param name="axis">The class axis; default the last.</param>
    /// <param name="reduction">See <see cref="Loss"/>; default <c>"sum_over_batch_size"</c>.</param>
    /// <param name="name">Default <c>"categorical_crossentropy"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> outside [0, 1].</exception>
    /// <exception cref="ArgumentException">An unknown reduction.</exception>
    public CategoricalCrossentropy(bool fromLogits = false, double labelSmoothing = 0.0, int axis = -1,
        string reduction = "sum_over_batch_size", string? name = null)
        : base(name ?? "categorical_crossentropy", reduction)
    {
        FromLogits = fromLogits;
        LabelSmoothing = Crossentropy.CheckLabelSmoothing(labelSmoothing);
        Axis = axis;
    }

    /// <summary>Whether <c>y_pred</c> holds logits.</summary>
    public bool FromLogits { get; }

    /// <summary>The label smoothing factor.</summary>
    public double LabelSmoothing { get; }

    /// <summary>The class axis.</summary>
    public int Axis { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Different shapes (e.g. integer labels: use sparse categorical crossentropy), or an axis outside the rank.</exception>
    public override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var (t, p) = LossInputs.Align(yTrue, yPred, Who,
            "For integer class labels use SparseCategoricalCrossentropy (\"sparse_categorical_crossentropy\").");
        if (Axis < -p.dim() || Axis >= p.dim())
            throw new ArgumentException($"{Who} expected an axis in [{-p.dim()}, {p.dim() - 1}] for y_pred.shape={LossInputs.Shape(p)}. Received: axis={Axis}.");
        if (LabelSmoothing != 0)
            t = t * (1.0 - LabelSmoothing) + LabelSmoothing / p.shape[Axis < 0 ? p.dim() + Axis : Axis];
        return -(t * Crossentropy.LogProbabilities(p, FromLogits, Axis)).sum(Axis);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["from_logits"] = FromLogits;
        config["label_smoothing"] = LabelSmoothing;
        config["axis"] = Axis;
        return config;
    }
}
