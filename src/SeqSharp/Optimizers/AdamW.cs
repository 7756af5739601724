using SeqSharp.Optimizers.Schedules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Optimizers;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter): <see cref="Adam"/> with decoupled weight decay, which is on by
/// default. As in Keras, each step first shrinks every variable, <c>w -= w · weightDecay · lr</c>, then
/// applies the Adam update.
/// </summary>
/// <remarks>State per variable: as <see cref="Adam"/>.</remarks>
/// <example>
/// <code>
/// var optimizer = new AdamW(learningRate: 1e-3, weightDecay: 0.01);
/// </code>
/// </example>
public sealed class AdamW : Optimizer
{
    private Tensor[] _momentums = [];
    private Tensor[] _velocities = [];
    private Tensor[]? _velocityHats;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">A rate or schedule. Default 0.001.</param>
    /// <param name="weightDecay">Decoupled weight decay factor, finite and non-negative. Default 0.004.</param>
    /// <param name="beta1">Decay of the first-moment average, in [0, 1). Default 0.9.</param>
    /// <param name="beta2">Decay of the second-moment average, in [0, 1). Default 0.999.</param>
    /// <param name="epsilon">Added to <c>sqrt(v)</c>, non-negative. Default 1e-7.</param>
    /// <param name="amsgrad">Whether to use the AMSGrad variant. Default false.</param>
    /// <param name="clipnorm">Per-gradient norm limit; null (default) for none.</param>
    /// <param name="clipvalue">Per-element gradient limit; null (default) for none.</param>
    /// <param name="globalClipnorm">Joint norm limit of all gradients; null (default) for none.</param>
    /// <param name="name">Default <c>"adamw"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside the ranges above.</exception>
    /// <exception cref="ArgumentException">More than one clipping argument, or an empty name.</exception>
    public AdamW(LearningRateSchedule? learningRate = null, double weightDecay = 0.004, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-7, bool amsgrad = false, double? clipnorm = null, double? clipvalue = null,
        double? globalClipnorm = null, string? name = null)
        : base(name ?? "adamw", learningRate, 0.001, weightDecay, clipnorm, clipvalue, globalClipnorm)
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
    protected override void UpdateStep(Tensor gradient, Tensor variable, int index, double learningRate) =>
        AdamUpdate.Apply(gradient, variable, _momentums[index], _velocities[index], _velocityHats?[index],
            learningRate, Iterations, Beta1, Beta2, Epsilon);

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
