using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>
/// Negative cosine similarity along <see cref="Axis"/>: <c>-Σ l2_normalize(y_true) · l2_normalize(y_pred)</c>,
/// between -1 (same direction) and 1 (opposite). As Keras, each vector is divided by
/// <c>sqrt(max(Σx², 1e-14))</c>, so a zero vector gives 0.
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "cosine_similarity");
/// </code>
/// </example>
public sealed class CosineSimilarity : Loss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="axis">The axis along which vectors are compared; default the last.</param>
    /// <param name="reduction">See <see cref="Loss"/>; default <c>"sum_over_batch_size"</c>.</param>
    /// <param name="name">Default <c>"cosine_similarity"</c>.</param>
    /// <exception cref="ArgumentException">An unknown reduction.</exception>
    public CosineSimilarity(int axis = -1, string reduction = "sum_over_batch_size", string? name = null)
        : base(name ?? "cosine_similarity", reduction)
    {
        Axis = axis;
    }

    /// <summary>The axis along which vectors are compared.</summary>
    public int Axis { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Different shapes, or an axis outside the rank.</exception>
    public override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var (t, p) = LossInputs.Align(yTrue, yPred, Who);
        if (Axis < -p.dim() || Axis >= p.dim())
            throw new ArgumentException($"{Who} expected an axis in [{-p.dim()}, {p.dim() - 1}] for y_pred.shape={LossInputs.Shape(p)}. Received: axis={Axis}.");
        return -(Normalize(t, Axis) * Normalize(p, Axis)).sum(Axis);
    }

    /// <summary>Keras's L2 normalisation: <c>x · rsqrt(max(Σx², ε²))</c> along the axis, ε = 1e-7.</summary>
    internal static Tensor Normalize(Tensor x, long axis) =>
        x * x.square().sum(axis, keepdim: true).clamp_min(LossInputs.Epsilon * LossInputs.Epsilon).rsqrt();

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["axis"] = Axis;
        return config;
    }
}
