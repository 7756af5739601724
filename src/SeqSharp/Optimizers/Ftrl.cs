using SeqSharp.Optimizers.Schedules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Optimizers;

/// <summary>
/// FTRL-Proximal (McMahan et al.), as Keras 3 computes it. With <c>p = -learningRatePower</c>,
/// <c>λ2 = l2RegularizationStrength + beta / (2 lr)</c> and <c>g' = g + 2 · l2ShrinkageRegularizationStrength · w</c>:
/// <c>n' = n + g²</c>, <c>z += g' - (n'^p - n^p) / lr · w</c>, <c>w = (clip(z, -λ1, λ1) - z) / (n'^p / lr + 2 λ2)</c>,
/// <c>n = n'</c>, with <c>λ1 = l1RegularizationStrength</c>.
/// </summary>
/// <remarks>State (order of <see cref="Optimizer.Variables"/>): accumulator <c>n</c> (starting at
/// <c>initialAccumulatorValue</c>) and linear term <c>z</c> (starting at 0) of each variable in turn.</remarks>
/// <example>
/// <code>
/// model.Compile(optimizer: new Ftrl(learningRate: 0.1, l1RegularizationStrength: 0.01), loss: "mse");
/// </code>
/// </example>
public sealed class Ftrl : Optimizer
{
    private Tensor[] _accumulators = [];
    private Tensor[] _linears = [];

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">A rate or schedule. Default 0.001.</param>
    /// <param name="learningRatePower">How the rate shrinks with the accumulator, ≤ 0. Default -0.5.</param>
    /// <param name="initialAccumulatorValue">The accumulators' start, ≥ 0. Default 0.1.</param>
    /// <param name="l1RegularizationStrength">L1 strength, ≥ 0. Default 0.</param>
    /// <param name="l2RegularizationStrength">L2 strength, ≥ 0. Default 0.</param>
    /// <param name="l2ShrinkageRegularizationStrength">L2 shrinkage strength (a magnitude penalty in the gradient), ≥ 0. Default 0.</param>
    /// <param name="beta">The paper's β, added as <c>β / (2 lr)</c> to the L2 strength. Default 0.</param>
    /// <param name="weightDecay">Decoupled weight decay factor; null (default) for none.</param>
    /// <param name="clipnorm">Per-gradient norm limit; null (default) for none.</param>
    /// <param name="clipvalue">Per-element gradient limit; null (default) for none.</param>
    /// <param name="globalClipnorm">Joint norm limit of all gradients; null (default) for none.</param>
    /// <param name="name">Default <c>"ftrl"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside the ranges above.</exception>
    /// <exception cref="ArgumentException">More than one clipping argument, or an empty name.</exception>
    public Ftrl(LearningRateSchedule? learningRate = null, double learningRatePower = -0.5, double initialAccumulatorValue = 0.1,
        double l1RegularizationStrength = 0.0, double l2RegularizationStrength = 0.0, double l2ShrinkageRegularizationStrength = 0.0,
        double beta = 0.0, double? weightDecay = null, double? clipnorm = null, double? clipvalue = null, double? globalClipnorm = null,
        string? name = null)
        : base(name ?? "ftrl", learningRate, 0.001, weightDecay, clipnorm, clipvalue, globalClipnorm)
    {
        if (!(learningRatePower <= 0 && double.IsFinite(learningRatePower)))
            throw new ArgumentOutOfRangeException(nameof(learningRatePower), learningRatePower,
                $"Expected learningRatePower to be negative or zero. Received: learningRatePower={learningRatePower}.");
        LearningRatePower = learningRatePower;
        InitialAccumulatorValue = Require.NonNegative(initialAccumulatorValue, nameof(initialAccumulatorValue));
        L1RegularizationStrength = Require.NonNegative(l1RegularizationStrength, nameof(l1RegularizationStrength));
        L2RegularizationStrength = Require.NonNegative(l2RegularizationStrength, nameof(l2RegularizationStrength));
        L2ShrinkageRegularizationStrength = Require.NonNegative(l2ShrinkageRegularizationStrength, nameof(l2ShrinkageRegularizationStrength));
        Beta = beta;
    }

    /// <summary>How the rate shrinks with the accumulator.</summary>
    public double LearningRatePower { get; }

    /// <summary>The accumulators' start.</summary>
    public double InitialAccumulatorValue { get; }

    /// <summary>L1 strength.</summary>
    public double L1RegularizationStrength { get; }

    /// <summary>L2 strength.</summary>
    public double L2RegularizationStrength { get; }

    /// <summary>L2 shrinkage strength.</summary>
    public double L2ShrinkageRegularizationStrength { get; }

    /// <summary>The paper's β.</summary>
    public double Beta { get; }

    /// <inheritdoc />
    protected override void BuildSlots(IReadOnlyList<Parameter> variables)
    {
        _accumulators = new Tensor[variables.Count];
        _linears = new Tensor[variables.Count];
        for (int i = 0; i < variables.Count; i++)
        {
            _accumulators[i] = AddVariable(variables[i], InitialAccumulatorValue);
            _linears[i] = AddVariable(variables[i]);
        }
    }

    /// <inheritdoc />
    protected override void UpdateStep(Tensor gradient, Tensor variable, int index, double learningRate)
    {
        var accumulator = _accumulators[index];
        var linear = _linears[index];
        double power = -LearningRatePower;
        double l2 = L2RegularizationStrength + Beta / (2.0 * learningRate);
        var gradientToUse = gradient.add(variable.mul(2 * L2ShrinkageRegularizationStrength));
        var newAccumulator = accumulator.add(gradient.square());
        var newPower = newAccumulator.pow(power);
        linear.add_(gradientToUse.sub_(newPower.sub(accumulator.pow(power)).div_(learningRate).mul_(variable)));
        var quadratic = newPower.div(learningRate).add_(2 * l2);
        var clipped = linear.clamp(-L1RegularizationStrength, L1RegularizationStrength);
        variable.copy_(clipped.sub_(linear).div_(quadratic));
        accumulator.copy_(newAccumulator);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["learning_rate_power"] = LearningRatePower;
        config["initial_accumulator_value"] = InitialAccumulatorValue;
        config["l1_regularization_strength"] = L1RegularizationStrength;
        config["l2_regularization_strength"] = L2RegularizationStrength;
        config["l2_shrinkage_regularization_strength"] = L2ShrinkageRegularizationStrength;
        config["beta"] = Beta;
        return config;
    }
}
