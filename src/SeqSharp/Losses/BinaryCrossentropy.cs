using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>
/// Binary crossentropy, averaged over the last axis, for labels in [0, 1] and one probability (or
/// logit) per label: <c>-(y·log p + (1 - y)·log(1 - p))</c>.
/// </summary>
/// <remarks>
/// Without <see cref="FromLogits"/>, probabilities are clipped to <c>[1e-7, 1 - 1e-7]</c> first (Keras's
/// epsilon), so a prediction of exactly 0 or 1 gives a large but finite loss. With it, the loss is
/// computed from logits in a numerically stable way. Label smoothing replaces <c>y</c> by
/// <c>y·(1 - s) + 0.5·s</c>.
/// </remarks>
/// <example>
/// <code>
/// model.Add(new Dense(1));                                          // logits
/// model.Compile(optimizer: "adam", loss: new BinaryCrossentropy(fromLogits: true));
/// </code>
/// </example>
public sealed class BinaryCrossentropy : Loss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="fromLogits">Whether <c>y_pred</c> holds logits rather than probabilities.</param>
    /// <param name="labelSmoothing">In [0, 1]; 0 for none.</param>
    /// <param name="reduction">See <see cref="Loss"/>; default <c>"sum_over_batch_size"</c>.</param>
    /// <param name="name">Default <c>"binary_crossentropy"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> outside [0, 1].</exception>
    /// <exception cref="ArgumentException">An unknown reduction.</exception>
    public BinaryCrossentropy(bool fromLogits = false, double labelSmoothing = 0.0, string reduction = "sum_over_batch_size", string? name = null)
        : base(name ?? "binary_crossentropy", reduction)
    {
        FromLogits = fromLogits;
        LabelSmoothing = Crossentropy.CheckLabelSmoothing(labelSmoothing);
    }

    /// <summary>Whether <c>y_pred</c> holds logits.</summary>
    public bool FromLogits { get; }

    /// <summary>The label smoothing factor.</summary>
    public double LabelSmoothing { get; }

    /// <inheritdoc />
    public override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var (t, p) = LossInputs.Align(yTrue, yPred, Who);
        Crossentropy.CheckBinaryTargets(t, Who, "y_true");
        if (LabelSmoothing != 0)
            t = t * (1.0 - LabelSmoothing) + 0.5 * LabelSmoothing;
        var values = FromLogits
            ? nn.functional.binary_cross_entropy_with_logits(p, t, reduction: nn.Reduction.None)
            : nn.functional.binary_cross_entropy(p.clamp(LossInputs.Epsilon, 1.0 - LossInputs.Epsilon), t, reduction: nn.Reduction.None);
        return values.mean([-1]);
    }

    /// <inheritdoc />
    internal override void CheckTargets(Tensor y, long[] outputShape, string yName) =>
        Crossentropy.CheckBinaryTargets(y, Who, $"'{yName}'");

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["from_logits"] = FromLogits;
        config["label_smoothing"] = LabelSmoothing;
        return config;
    }
}
