using SeqSharp.Optimizers.Schedules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Optimizers;

/// <summary>
/// RMSprop (Hinton), as Keras 3 computes it: <c>v = ρ v + (1 - ρ) g²</c>, and
/// <c>increment = lr · g / sqrt(v + ε)</c>; centered, with the running mean gradient
/// <c>a = ρ a + (1 - ρ) g</c>, <c>increment = lr · g / sqrt(v - a² + ε)</c>. Without momentum
/// <c>w -= increment</c>; with it, <c>mom = momentum · mom + increment; w -= mom</c>.
/// </summary>
/// <remarks>ε sits inside the square root, unlike in <see cref="Adam"/>. State per variable
/// (order of <see cref="Optimizer.Variables"/>): the velocity of each variable, then the momentum of
/// each (only when <c>momentum &gt; 0</c>), then the mean gradient of each (only when centered).</remarks>
/// <example>
/// <code>
/// model.Compile(optimizer: new RMSprop(learningRate: 1e-3, centered: true), loss: "mse");
/// </code>
/// </example>
public sealed class RMSprop : Optimizer
{
    private Tensor[] _velocities = [];
    private Tensor[]? _momentums;
    private Tensor[]? _averageGradients;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">A rate or schedule. Default 0.001.</param>
    /// <param name="rho">Decay of the squared-gradient average, in [0, 1]. Default 0.9.</param>
    /// <param name="momentum">Momentum factor in [0, 1]; 0 (default) for none.</param>
    /// <param name="epsilon">Added under the square root, non-negative. Default 1e-7.</param>
    /// <param name="centered">Whether to divide by the estimated variance instead of the second moment. Default false.</param>
    /// <param name="weightDecay">Decoupled weight decay factor; null (default) for none.</param>
    /// <param name="clipnorm">Per-gradient norm limit; null (default) for none.</param>
    /// <param name="clipvalue">Per-element gradient limit; null (default) for none.</param>
    /// <param name="globalClipnorm">Joint norm limit of all gradients; null (default) for none.</param>
    /// <param name="name">Default <c>"rmsprop"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside the ranges above.</exception>
    /// <exception cref="ArgumentException">More than one clipping argument, or an empty name.</exception>
    public RMSprop(LearningRateSchedule? learningRate = null, double rho = 0.9, double momentum = 0.0, double epsilon = 1e-7,
        bool centered = false, double? weightDecay = null, double? clipnorm = null, double? clipvalue = null,
        double? globalClipnorm = null, string? name = null)
        : base(name ?? "rmsprop", learningRate, 0.001, weightDecay, clipnorm, clipvalue, globalClipnorm)
    {
        Rho = Require.Fraction(rho, nameof(rho), includeOne: true);
        Momentum = Require.Fraction(momentum, nameof(momentum), includeOne: true);
        Epsilon = Require.NonNegative(epsilon, nameof(epsilon));
        Centered = centered;
    }

    /// <summary>Decay of the squared-gradient average.</summary>
    public double Rho { get; }

    /// <summary>The momentum factor; 0 for none.</summary>
    public double Momentum { get; }

    /// <summary>Added under the square root.</summary>
    public double Epsilon { get; }

    /// <summary>Whether the centered variant is used.</summary>
    public bool Centered { get; }

    /// <inheritdoc />
    protected override void BuildSlots(IReadOnlyList<Parameter> variables)
    {
        _velocities = variables.Select(v => AddVariable(v)).ToArray();
        _momentums = Momentum > 0 ? variables.Select(v => AddVariable(v)).ToArray() : null;
        _averageGradients = Centered ? variables.Select(v => AddVariable(v)).ToArray() : null;
    }

    /// <inheritdoc />
    protected override void UpdateStep(Tensor gradient, Tensor variable, int index, double learningRate)
    {
        var velocity = _velocities[index];
        velocity.mul_(Rho).add_(gradient.square().mul_(1 - Rho));
        Tensor denominator;
        if (_averageGradients is not null)
        {
            var average = _averageGradients[index];
            average.mul_(Rho).add_(gradient.mul(1 - Rho));
            denominator = velocity.sub(average.square()).add_(Epsilon);
        }
        else
        {
            denominator = velocity.add(Epsilon);
        }
        var increment = gradient.mul(learningRate).div_(denominator.sqrt_());
        if (_momentums is not null)
        {
            var momentum = _momentums[index];
            momentum.mul_(Momentum).add_(increment);
            variable.sub_(momentum);
        }
        else
        {
            variable.sub_(increment);
        }
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["rho"] = Rho;
        config["momentum"] = Momentum;
        config["epsilon"] = Epsilon;
        config["centered"] = Centered;
        return config;
    }
}
