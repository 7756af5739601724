using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>
/// Huber loss, averaged over the last axis: for the error <c>x = y_pred - y_true</c>,
/// <c>0.5·x²</c> where <c>|x| ≤ delta</c> and <c>delta·|x| - 0.5·delta²</c> elsewhere.
/// </summary>
/// <example>
/// <code>
/// model.Compile(optimizer: "adam", loss: new Huber(delta: 0.5));
/// </code>
/// </example>
public sealed class Huber : Loss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="delta">Where the loss turns from quadratic to linear; positive, default 1.</param>
    /// <param name="reduction">See <see cref="Loss"/>; default <c>"sum_over_batch_size"</c>.</param>
    /// <param name="name">Default <c>"huber_loss"</c> (Keras's name).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is not positive.</exception>
    /// <exception cref="ArgumentException">An unknown reduction.</exception>
    public Huber(double delta = 1.0, string reduction = "sum_over_batch_size", string? name = null)
        : base(name ?? "huber_loss", reduction)
    {
        if (!(delta > 0) || double.IsInfinity(delta))
            throw new ArgumentOutOfRangeException(nameof(delta), delta, $"Expected a positive, finite delta. Received: delta={delta}.");
        Delta = delta;
    }

    /// <summary>Where the loss turns from quadratic to linear.</summary>
    public double Delta { get; }

    /// <inheritdoc />
    public override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var (t, p) = LossInputs.Align(yTrue, yPred, Who);
        var error = p - t;
        var absError = error.abs();
        var quadratic = error.square() * 0.5;
        var linear = absError * Delta - 0.5 * Delta * Delta;
        return where(absError.le(Delta), quadratic, linear).mean([-1]);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["delta"] = Delta;
        return config;
    }
}
