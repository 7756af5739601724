using SeqSharp.Optimizers.Schedules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Optimizers;

/// <summary>
/// Gradient descent, optionally with momentum, as Keras 3 computes it: without momentum
/// <c>w -= lr · g</c>; with it, <c>m = momentum · m - lr · g</c> and <c>w += m</c>, or with Nesterov
/// momentum <c>w += momentum · m - lr · g</c> (using the new <c>m</c>).
/// </summary>
/// <remarks>State per variable: the momentum of each variable, only when <c>momentum &gt; 0</c>.</remarks>
/// <example>
/// <code>
/// var optimizer = new SGD(learningRate: 0.01, momentum: 0.9, nesterov: true);
/// </code>
/// </example>
public sealed class SGD : Optimizer
{
    private Tensor[]? _momentums;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">A rate or schedule. Default 0.01.</param>
    /// <param name="momentum">Momentum factor in [0, 1]; 0 (default) for plain gradient descent.</param>
    /// <param name="nesterov">Whether to use Nesterov momentum. Default false.</param>
    /// <param name="weightDecay">Decoupled weight decay factor; null (default) for none.</param>
    /// <param name="clipnorm">Per-gradient norm limit; null (default) for none.</param>
    /// <param name="clipvalue">Per-element gradient limit; null (default) for none.</param>
    /// <param name="globalClipnorm">Joint norm limit of all gradients; null (default) for none.</param>
    /// <param name="name">Default <c>"sgd"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside the ranges above.</exception>
    /// <exception cref="ArgumentException">More than one clipping argument, or an empty name.</exception>
    public SGD(LearningRateSchedule? learningRate = null, double momentum = 0.0, bool nesterov = false,
        double? weightDecay = null, double? clipnorm = null, double? clipvalue = null, double? globalClipnorm = null,
        string? name = null)
        : base(name ?? "sgd", learningRate, 0.01, weightDecay, clipnorm, clipvalue, globalClipnorm)
    {
        Momentum = Require.Fraction(momentum, nameof(momentum), includeOne: true);
        Nesterov = nesterov;
    }

    /// <summary>The momentum factor; 0 for none.</summary>
    public double Momentum { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc />
    protected override void BuildSlots(IReadOnlyList<Parameter> variables) =>
        _momentums = Momentum > 0 ? variables.Select(v => AddVariable(v)).ToArray() : null;

    /// <inheritdoc />
    protected override void UpdateStep(Tensor gradient, Tensor variable, int index, double learningRate)
    {
        if (_momentums is null)
        {
            variable.sub_(gradient.mul(learningRate));
            return;
        }
        var m = _momentums[index];
        m.mul_(Momentum).sub_(gradient.mul(learningRate));
        if (Nesterov)
            variable.add_(m.mul(Momentum).sub_(gradient.mul(learningRate)));
        else
            variable.add_(m);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["momentum"] = Momentum;
        config["nesterov"] = Nesterov;
        return config;
    }
}
