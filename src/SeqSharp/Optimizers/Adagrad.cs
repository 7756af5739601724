using SeqSharp.Optimizers.Schedules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Optimizers;

/// <summary>
/// Adagrad (Duchi et al.), as Keras 3 computes it: <c>acc += g²</c>, <c>w -= lr · g / sqrt(acc + ε)</c>,
/// with <c>acc</c> starting at <c>initialAccumulatorValue</c>.
/// </summary>
/// <remarks>State per variable: the accumulator of each variable.</remarks>
/// <example>
/// <code>
/// var optimizer = new Adagrad(learningRate: 0.01);
/// </code>
/// </example>
public sealed class Adagrad : Optimizer
{
    private Tensor[] _accumulators = [];

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">A rate or schedule. Default 0.001.</param>
    /// <param name="initialAccumulatorValue">Starting value of the accumulators, finite and non-negative. Default 0.1.</param>
    /// <param name="epsilon">Added under the square root, non-negative. Default 1e-7.</param>
    /// <param name="weightDecay">Decoupled weight decay factor; null (default) for none.</param>
    /// <param name="clipnorm">Per-gradient norm limit; null (default) for none.</param>
    /// <param name="clipvalue">Per-element gradient limit; null (default) for none.</param>
    /// <param name="globalClipnorm">Joint norm limit of all gradients; null (default) for none.</param>
    /// <param name="name">Default <c>"adagrad"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside the ranges above.</exception>
    /// <exception cref="ArgumentException">More than one clipping argument, or an empty name.</exception>
    public Adagrad(LearningRateSchedule? learningRate = null, double initialAccumulatorValue = 0.1, double epsilon = 1e-7,
        double? weightDecay = null, double? clipnorm = null, double? clipvalue = null, double? globalClipnorm = null,
        string? name = null)
        : base(name ?? "adagrad", learningRate, 0.001, weightDecay, clipnorm, clipvalue, globalClipnorm)
    {
        InitialAccumulatorValue = Require.NonNegative(initialAccumulatorValue, nameof(initialAccumulatorValue));
        Epsilon = Require.NonNegative(epsilon, nameof(epsilon));
    }

    /// <summary>Starting value of the accumulators.</summary>
    public double InitialAccumulatorValue { get; }

    /// <summary>Added under the square root.</summary>
    public double Epsilon { get; }

    /// <inheritdoc />
    protected override void BuildSlots(IReadOnlyList<Parameter> variables) =>
        _accumulators = variables.Select(v => AddVariable(v, InitialAccumulatorValue)).ToArray();

    /// <inheritdoc />
    protected override void UpdateStep(Tensor gradient, Tensor variable, int index, double learningRate)
    {
        var accumulator = _accumulators[index];
        accumulator.add_(gradient.square());
        variable.sub_(gradient.mul(learningRate).div_(accumulator.add(Epsilon).sqrt_()));
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["initial_accumulator_value"] = InitialAccumulatorValue;
        config["epsilon"] = Epsilon;
        return config;
    }
}
