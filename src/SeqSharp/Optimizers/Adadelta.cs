using SeqSharp.Optimizers.Schedules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Optimizers;

/// <summary>
/// Adadelta (Zeiler), as Keras 3 computes it: <c>a = ρ a + (1 - ρ) g²</c>,
/// <c>Δ = -sqrt(d + ε) · g / sqrt(a + ε)</c>, <c>d = ρ d + (1 - ρ) Δ²</c>, <c>w += lr · Δ</c>,
/// with <c>a</c> and <c>d</c> starting at zero. Keras keeps a learning rate (default 0.001, where the
/// paper's method has none: use 1.0 for the paper's update).
/// </summary>
/// <remarks>State (order of <see cref="Optimizer.Variables"/>): accumulated gradient and accumulated
/// update of each variable in turn.</remarks>
/// <example>
/// <code>
/// model.Compile(optimizer: new Adadelta(learningRate: 1.0), loss: "mse");
/// </code>
/// </example>
public sealed class Adadelta : Optimizer
{
    private Tensor[] _gradients = [];
    private Tensor[] _deltas = [];

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">A rate or schedule. Default 0.001.</param>
    /// <param name="rho">Decay of both running averages, in [0, 1]. Default 0.95.</param>
    /// <param name="epsilon">Added inside both square roots, non-negative. Default 1e-7.</param>
    /// <param name="weightDecay">Decoupled weight decay factor; null (default) for none.</param>
    /// <param name="clipnorm">Per-gradient norm limit; null (default) for none.</param>
    /// <param name="clipvalue">Per-element gradient limit; null (default) for none.</param>
    /// <param name="globalClipnorm">Joint norm limit of all gradients; null (default) for none.</param>
    /// <param name="name">Default <c>"adadelta"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside the ranges above.</exception>
    /// <exception cref="ArgumentException">More than one clipping argument, or an empty name.</exception>
    public Adadelta(LearningRateSchedule? learningRate = null, double rho = 0.95, double epsilon = 1e-7,
        double? weightDecay = null, double? clipnorm = null, double? clipvalue = null, double? globalClipnorm = null, string? name = null)
        : base(name ?? "adadelta", learningRate, 0.001, weightDecay, clipnorm, clipvalue, globalClipnorm)
    {
        Rho = Require.Fraction(rho, nameof(rho), includeOne: true);
        Epsilon = Require.NonNegative(epsilon, nameof(epsilon));
    }

    /// <summary>Decay of the running averages.</summary>
    public double Rho { get; }

    /// <summary>Added inside the square roots.</summary>
    public double Epsilon { get; }

    /// <inheritdoc />
    protected override void BuildSlots(IReadOnlyList<Parameter> variables)
    {
        _gradients = new Tensor[variables.Count];
        _deltas = new Tensor[variables.Count];
        for (int i = 0; i < variables.Count; i++)
        {
            _gradients[i] = AddVariable(variables[i]);
            _deltas[i] = AddVariable(variables[i]);
        }
    }

    /// <inheritdoc />
    protected override void UpdateStep(Tensor gradient, Tensor variable, int index, double learningRate)
    {
        var accumulatedGradient = _gradients[index];
        var accumulatedDelta = _deltas[index];
        accumulatedGradient.mul_(Rho).add_(gradient.square().mul_(1 - Rho));
        var delta = accumulatedDelta.add(Epsilon).sqrt_().mul_(gradient).div_(accumulatedGradient.add(Epsilon).sqrt_()).neg_();
        accumulatedDelta.mul_(Rho).add_(delta.square().mul_(1 - Rho));
        variable.add_(delta.mul_(learningRate));
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["rho"] = Rho;
        config["epsilon"] = Epsilon;
        return config;
    }
}
