using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>
/// Categorical crossentropy for integer class labels: <c>-log p[label]</c>. For <c>y_pred</c> of
/// shape <c>(batch, classes)</c>, labels are <c>(batch,)</c> or <c>(batch, 1)</c>; for
/// <c>(batch, timesteps, classes)</c>, <c>(batch, timesteps)</c> or <c>(batch, timesteps, 1)</c>.
/// Labels may come as a floating-point tensor of whole numbers.
/// </summary>
/// <remarks>
/// Without <see cref="FromLogits"/>, predictions are divided by their sum over the classes and
/// clipped to <c>[1e-7, 1 - 1e-7]</c> (as Keras does). With <see cref="IgnoreClass"/>, values whose
/// label is that class are 0 and left out of the mean: <c>"sum_over_batch_size"</c> divides by the
/// number of the other values.
/// </remarks>
/// <example>
/// <code>
/// model.Add(new Dense(10));   // logits
/// model.Compile(optimizer: "adam", loss: new SparseCategoricalCrossentropy(fromLogits: true));
/// </code>
/// </example>
public sealed class SparseCategoricalCrossentropy : Loss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="fromLogits">Whether <c>y_pred</c> holds logits rather than probabilities.</param>
    /// <param name="ignoreClass">A label to leave out of the loss (e.g. padding), or null.</param>
    /// <param name="reduction">See <see cref="Loss"/>; default <c>"sum_over_batch_size"</c>.</param>
    /// <param name="name">Default <c>"sparse_categorical_crossentropy"</c>.</param>
    /// <exception cref="ArgumentException">An unknown reduction.</exception>
    public SparseCategoricalCrossentropy(bool fromLogits = false, int? ignoreClass = null,
        string reduction = "sum_over_batch_size", string? name = null)
        : base(name ?? "sparse_categorical_crossentropy", reduction)
    {
        FromLogits = fromLogits;
        IgnoreClass = ignoreClass;
    }

    /// <summary>Whether <c>y_pred</c> holds logits.</summary>
    public bool FromLogits { get; }

    /// <summary>The label left out of the loss, or null.</summary>
    public int? IgnoreClass { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Labels of the wrong shape, or outside <c>[0, classes)</c>.</exception>
    public override Tensor Compute(Tensor yTrue, Tensor yPred) => ComputeWithMask(yTrue, yPred).Values;

    /// <inheritdoc />
    protected override (Tensor Values, Tensor? Mask) ComputeWithMask(Tensor yTrue, Tensor yPred)
    {
        var (labels, p) = SparseLabels.Align(yTrue, yPred, Who);
        Tensor? valid = IgnoreClass is int ignore ? labels.ne(ignore) : null;
        if (valid is not null)
            labels = labels * valid;   // any class index will do where the value is masked out
        SparseLabels.CheckRange(labels, p.shape[^1], Who);
        var logProbabilities = Crossentropy.LogProbabilities(p, FromLogits, -1);
        var values = -logProbabilities.gather(-1, labels.unsqueeze(-1)).squeeze(-1);
        if (valid is not null)
            values = where(valid, values, zeros_like(values));
        return (values, valid);
    }

    /// <inheritdoc />
    internal override void CheckTargets(Tensor y, long[] outputShape, string yName)
    {
        using var scope = NewDisposeScope();
        var labels = (y.is_floating_point() ? y.round() : y).to_type(ScalarType.Int64);
        if (IgnoreClass is int ignore)
            labels = labels * labels.ne(ignore);
        SparseLabels.CheckRange(labels, outputShape[^1], $"{Who} (targets '{yName}')");
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["from_logits"] = FromLogits;
        config["ignore_class"] = IgnoreClass;
        return config;
    }
}
