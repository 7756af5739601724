using SeqSharp.Losses;
using static TorchSharp.torch;

namespace SeqSharp.Metrics;

/// <summary>
/// The root of the mean squared error over every value since the last reset:
/// <c>sqrt(mean((y_pred - y_true)²))</c> (Keras <c>keras.metrics.RootMeanSquaredError</c>). The
/// root is taken of the epoch's mean, not averaged over batches.
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: "mse", metrics: ["rmse"]);
/// </code>
/// </example>
public sealed class RootMeanSquaredError : Mean
{
    /// <summary>Creates the metric.</summary>
    /// <param name="name">Default <c>"root_mean_squared_error"</c>.</param>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public RootMeanSquaredError(string? name = null) : base(name ?? "root_mean_squared_error") { }

    /// <inheritdoc />
    public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (t, p) = LossInputs.Align(yTrue, yPred, Who);
        UpdateValues((p - t).square(), sampleWeight);
    }

    /// <inheritdoc />
    public override double Result() => Math.Sqrt(base.Result());
}
