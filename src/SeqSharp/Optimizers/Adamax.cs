using SeqSharp.Optimizers.Schedules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Optimizers;

/// <summary>
/// Adamax, Adam's infinity-norm variant (Kingma &amp; Ba, section 7), as Keras 3 computes it: with
/// <c>t = Iterations + 1</c>, <c>m += (g - m)(1 - β1)</c>, <c>u = max(β2 u, |g|)</c>,
/// <c>w -= lr · m / ((1 - β1^t)(u + ε))</c>.
/// </summary>
/// <remarks>State (order of <see cref="Optimizer.Variables"/>): momentum and norm of each variable in turn.</remarks>
/// <example>
/// <code>
/// model.Compile(optimizer: "adamax", loss: "mse");
/// </code>
/// </example>
public sealed class Adamax : Optimizer
{
    private Tensor[] _momentums = [];
    private Tensor[] _norms = [];

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">A rate or schedule. Default 0.001.</param>
    /// <param name="beta1">Decay of the first-moment average, in [0, 1). Default 0.9.</param>
    /// <param name="beta2">Decay of the infinity norm, in [0, 1). Default 0.999.</param>
    /// <param name="epsilon">Added to the norm, non-negative. Default 1e-7.</param>
    /// <param name="weightDecay">Decoupled weight decay factor; null (default) for none.</param>
    /// <param name="clipnorm">Per-gradient norm limit; null (default) for none.</param>
    /// <param name="clipvalue">Per-element gradient limit; null (default) for none.</param>
    /// <param name="globalClipnorm">Joint norm limit of all gradients; null (default) for none.</param>
    /// <param name="name">Default <c>"adamax"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside the ranges above.</exception>
    /// <exception cref="ArgumentException">More than one clipping argument, or an empty name.</exception>
    public Adamax(LearningRateSchedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7,
        double? weightDecay = null, double? clipnorm = null, double? clipvalue = null, double? globalClipnorm = null, string? name = null)
        : base(name ?? "adamax", learningRate, 0.001, weightDecay, clipnorm, clipvalue, globalClipnorm)
    {
        Beta1 = Require.Fraction(beta1, nameof(beta1), includeOne: false);
        Beta2 = Require.Fraction(beta2, nameof(beta2), includeOne: false);
        Epsilon = Require.NonNegative(epsilon, nameof(epsilon));
    }

    /// <summary>Decay of the first-moment average.</summary>
    public double Beta1 { get; }

    /// <summary>Decay of the infinity norm.</summary>
    public double Beta2 { get; }

    /// <summary>Added to the norm.</summary>
    public double Epsilon { get; }

    /// <inheritdoc />
    protected override void BuildSlots(IReadOnlyList<Parameter> variables)
    {
        _momentums = new Tensor[variables.Count];
        _norms = new Tensor[variables.Count];
        for (int i = 0; i < variables.Count; i++)
        {
            _momentums[i] = AddVariable(variables[i]);
            _norms[i] = AddVariable(variables[i]);
        }
    }

    /// <inheritdoc />
    protected override void UpdateStep(Tensor gradient, Tensor variable, int index, double learningRate)
    {
        double t = Iterations + 1;
        var m = _momentums[index];
        var u = _norms[index];
        m.add_(gradient.sub(m).mul_(1 - Beta1));
        u.copy_(u.mul(Beta2).maximum(gradient.abs()));
        variable.sub_(m.mul(learningRate).div_(u.add(Epsilon).mul_(1 - Math.Pow(Beta1, t))));
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["beta_1"] = Beta1;
        config["beta_2"] = Beta2;
        config["epsilon"] = Epsilon;
        return config;
    }
}
