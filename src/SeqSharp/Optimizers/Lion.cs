using SeqSharp.Optimizers.Schedules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Optimizers;

/// <summary>
/// Lion (Chen et al., "Symbolic Discovery of Optimization Algorithms"), as Keras 3 computes it:
/// <c>w -= lr · sign(β1 m + (1 - β1) g)</c>, then <c>m = β2 m + (1 - β2) g</c>. Every element moves by
/// exactly <c>lr</c> (or not at all), so Lion usually wants a learning rate 3-10 times smaller than Adam's.
/// </summary>
/// <remarks>State (order of <see cref="Optimizer.Variables"/>): the momentum of each variable.</remarks>
/// <example>
/// <code>
/// model.Compile(optimizer: new Lion(learningRate: 1e-4), loss: "mse");
/// </code>
/// </example>
public sealed class Lion : Optimizer
{
    private Tensor[] _momentums = [];

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">A rate or schedule. Default 0.001.</param>
    /// <param name="beta1">Weight of the momentum in the update direction, in (0, 1]. Default 0.9.</param>
    /// <param name="beta2">Decay of the momentum, in [0, 1]. Default 0.99.</param>
    /// <param name="weightDecay">Decoupled weight decay factor; null (default) for none.</param>
    /// <param name="clipnorm">Per-gradient norm limit; null (default) for none.</param>
    /// <param name="clipvalue">Per-element gradient limit; null (default) for none.</param>
    /// <param name="globalClipnorm">Joint norm limit of all gradients; null (default) for none.</param>
    /// <param name="name">Default <c>"lion"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside the ranges above (<paramref name="beta1"/> = 0 would make Lion SignSGD).</exception>
    /// <exception cref="ArgumentException">More than one clipping argument, or an empty name.</exception>
    public Lion(LearningRateSchedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.99,
        double? weightDecay = null, double? clipnorm = null, double? clipvalue = null, double? globalClipnorm = null, string? name = null)
        : base(name ?? "lion", learningRate, 0.001, weightDecay, clipnorm, clipvalue, globalClipnorm)
    {
        if (!(beta1 > 0 && beta1 <= 1))
            throw new ArgumentOutOfRangeException(nameof(beta1), beta1,
                $"Expected beta1 in (0, 1]; otherwise the optimizer degenerates to SignSGD. Received: beta1={beta1}.");
        Beta1 = beta1;
        Beta2 = Require.Fraction(beta2, nameof(beta2), includeOne: true);
    }

    /// <summary>Weight of the momentum in the update direction.</summary>
    public double Beta1 { get; }

    /// <summary>Decay of the momentum.</summary>
    public double Beta2 { get; }

    /// <inheritdoc />
    protected override void BuildSlots(IReadOnlyList<Parameter> variables)
    {
        _momentums = variables.Select(v => AddVariable(v)).ToArray();
    }

    /// <inheritdoc />
    protected override void UpdateStep(Tensor gradient, Tensor variable, int index, double learningRate)
    {
        var m = _momentums[index];
        variable.sub_(m.mul(Beta1).add_(gradient.mul(1 - Beta1)).sign_().mul_(learningRate));
        m.mul_(Beta2).add_(gradient.mul(1 - Beta2));
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["beta_1"] = Beta1;
        config["beta_2"] = Beta2;
        return config;
    }
}
