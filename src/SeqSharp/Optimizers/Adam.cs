using SeqSharp.Optimizers.Schedules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Optimizers;

/// <summary>
/// Adam (Kingma &amp; Ba), as Keras 3 computes it: with <c>t = Iterations + 1</c>,
/// <c>m += (g - m)(1 - β1)</c>, <c>v += (g² - v)(1 - β2)</c>,
/// <c>w -= lr sqrt(1 - β2^t) / (1 - β1^t) · m / (sqrt(v) + ε)</c>.
/// With <c>amsgrad</c>, the running maximum of <c>v</c> replaces <c>v</c> in the last formula.
/// </summary>
/// <remarks>State per variable (order of <see cref="Optimizer.Variables"/>): momentum and velocity of
/// each variable in turn, then, with AMSGrad, the velocity maximum of each variable.</remarks>
/// <example>
/// <code>
/// model.Compile(optimizer: new Adam(learningRate: 1e-3), loss: "mse");
/// </code>
/// </example>
public class Adam : Optimizer
{
    private Tensor[] _momentums = [];
    private Tensor[] _velocities = [];
    private Tensor[]? _velocityHats;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">A rate or schedule. Default 0.001.</param>
    /// <param name="beta1">Decay of the first-moment average, in [0, 1). Default 0.9.</param>
    /// <param name="beta2">Decay of the second-moment average, in [0, 1). Default 0.999.</param>
    /// <param name="epsilon">Added to <c>sqrt(v)</c> (Kingma &amp; Ba's "epsilon hat"), non-negative. Default 1e-7.</param>
    /// <param name="amsgrad">Whether to use the AMSGrad variant (Reddi et al.). Default false.</param>
    /// <param name="weightDecay">Decoupled weight decay factor; null (default) for none.</param>
    /// <param name="clipnorm">Per-gradient norm limit; null (default) for none.</param>
    /// <param name="clipvalue">Per-element gradient limit; null (default) for none.</param>
    /// <param name="globalClipnorm">Joint norm limit of all gradients; null (default) for none.</param>
    /// <param name="name">Default <c>"adam"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside the ranges above.</exception>
    /// <exception cref="ArgumentException">More than one clipping argument, or an empty name.</exception>
    public Adam(LearningRateSchedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7,
        bool amsgrad = false, double? weightDecay = null, double? clipnorm = null, double? clipvalue = null,
        double? globalClipnorm = null, string? name = null)
        : this(name ?? "adam", learningRate, beta1, beta2, epsilon, amsgrad, weightDecay, clipnorm, clipvalue, globalClipnorm)
    {
    }

    /// <summary>For <see cref="AdamW"/>: the same optimizer under another name, with weight decay.</summary>
    private protected Adam(string name, LearningRateSchedule? learningRate, double beta1, double beta2, double epsilon,
        bool amsgrad, double? weightDecay, double? clipnorm, double? clipvalue, double? globalClipnorm)
        : base(name, learningRate, 0.001, weightDecay, clipnorm, clipvalue, globalClipnorm)
    {
        Beta1 = Require.Fraction(beta1, nameof(beta1), includeOne: false);
        Beta2 = Require.Fraction(beta2, nameof(beta2), includeOne: false);
        Epsilon = Require.NonNegative(epsilon, nameof(epsilon));
        Amsgrad = amsgrad;
    }

    /// <summary>Decay of the first-moment average.</summary>
    public double Beta1 { get; }

    /// <summary>Decay of the second-moment average.</summary>
    public double Beta2 { get; }

    /// <summary>Added to <c>sqrt(v)</c>.</summary>
    public double Epsilon { get; }

    /// <summary>Whether the AMSGrad variant is used.</summary>
    public bool Amsgrad { get; }

    /// <inheritdoc />
    protected override void BuildSlots(IReadOnlyList<Parameter> variables)
    {
        _momentums = new Tensor[variables.Count];
        _velocities = new Tensor[variables.Count];
        for (int i = 0; i < variables.Count; i++)
        {
            _momentums[i] = AddVariable(variables[i]);
            _velocities[i] = AddVariable(variables[i]);
        }
        _velocityHats = Amsgrad ? variables.Select(v => AddVariable(v)).ToArray() : null;
    }

    /// <inheritdoc />
    protected override void UpdateStep(Tensor gradient, Tensor variable, int index, double learningRate)
    {
        double t = Iterations + 1;
        double alpha = learningRate * Math.Sqrt(1 - Math.Pow(Beta2, t)) / (1 - Math.Pow(Beta1, t));
        var m = _momentums[index];
        var v = _velocities[index];
        m.add_(gradient.sub(m).mul_(1 - Beta1));
        v.add_(gradient.square().sub_(v).mul_(1 - Beta2));
        if (_velocityHats?[index] is { } vHat)
        {
            vHat.copy_(vHat.maximum(v));
            v = vHat;
        }
        variable.sub_(m.mul(alpha).div_(v.sqrt().add_(Epsilon)));
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["beta_1"] = Beta1;
        config["beta_2"] = Beta2;
        config["epsilon"] = Epsilon;
        config["amsgrad"] = Amsgrad;
        return config;
    }
}
