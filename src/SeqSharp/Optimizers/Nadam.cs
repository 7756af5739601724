using SeqSharp.Optimizers.Schedules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Optimizers;

/// <summary>
/// Nadam: Adam with Nesterov momentum (Dozat), as Keras 3 computes it. With <c>t = Iterations + 1</c>
/// and the momentum schedule <c>u_t = β1 (1 - 0.5 · 0.96^t)</c>, the product <c>Π_t = u_1 ··· u_t</c>
/// (one shared state value), and per variable
/// <c>m += (g - m)(1 - β1)</c>, <c>v += (g² - v)(1 - β2)</c>,
/// <c>m̂ = u_{t+1} m / (1 - Π_t u_{t+1}) + (1 - u_t) g / (1 - Π_t)</c>, <c>v̂ = v / (1 - β2^t)</c>,
/// <c>w -= lr · m̂ / (sqrt(v̂) + ε)</c>.
/// </summary>
/// <remarks>State (order of <see cref="Optimizer.Variables"/>): momentum and velocity of each variable
/// in turn, then the scalar product <c>Π</c> (starting at 1), as Keras saves them.</remarks>
/// <example>
/// <code>
/// model.Compile(optimizer: "nadam", loss: "mse");
/// </code>
/// </example>
public sealed class Nadam : Optimizer
{
    private Tensor[] _momentums = [];
    private Tensor[] _velocities = [];
    private Tensor? _uProduct;
    private double _uProductValue = 1.0;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">A rate or schedule. Default 0.001.</param>
    /// <param name="beta1">Decay of the first-moment average, in [0, 1). Default 0.9.</param>
    /// <param name="beta2">Decay of the second-moment average, in [0, 1). Default 0.999.</param>
    /// <param name="epsilon">Added to <c>sqrt(v̂)</c>, non-negative. Default 1e-7.</param>
    /// <param name="weightDecay">Decoupled weight decay factor; null (default) for none.</param>
    /// <param name="clipnorm">Per-gradient norm limit; null (default) for none.</param>
    /// <param name="clipvalue">Per-element gradient limit; null (default) for none.</param>
    /// <param name="globalClipnorm">Joint norm limit of all gradients; null (default) for none.</param>
    /// <param name="name">Default <c>"nadam"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside the ranges above.</exception>
    /// <exception cref="ArgumentException">More than one clipping argument, or an empty name.</exception>
    public Nadam(LearningRateSchedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7,
        double? weightDecay = null, double? clipnorm = null, double? clipvalue = null, double? globalClipnorm = null, string? name = null)
        : base(name ?? "nadam", learningRate, 0.001, weightDecay, clipnorm, clipvalue, globalClipnorm)
    {
        Beta1 = Require.Fraction(beta1, nameof(beta1), includeOne: false);
        Beta2 = Require.Fraction(beta2, nameof(beta2), includeOne: false);
        Epsilon = Require.NonNegative(epsilon, nameof(epsilon));
    }

    /// <summary>Decay of the first-moment average.</summary>
    public double Beta1 { get; }

    /// <summary>Decay of the second-moment average.</summary>
    public double Beta2 { get; }

    /// <summary>Added to <c>sqrt(v̂)</c>.</summary>
    public double Epsilon { get; }

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
        using var scalar = torch.zeros([], dtype: variables.Count > 0 ? variables[0].dtype : ScalarType.Float32);
        _uProduct = AddVariable(scalar, 1.0);
    }

    /// <inheritdoc />
    protected override void BeginStep()
    {
        double t = Iterations + 1;
        // Read back, so that a product restored with SetVariables is used.
        _uProductValue = _uProduct!.to_type(ScalarType.Float64).item<double>() * Beta1 * (1.0 - 0.5 * Math.Pow(0.96, t));
        _uProduct.fill_(_uProductValue);
    }

    /// <inheritdoc />
    protected override void UpdateStep(Tensor gradient, Tensor variable, int index, double learningRate)
    {
        double t = Iterations + 1;
        double uT = Beta1 * (1.0 - 0.5 * Math.Pow(0.96, t));
        double uNext = Beta1 * (1.0 - 0.5 * Math.Pow(0.96, t + 1));
        double product = _uProductValue;
        double productNext = product * uNext;
        var m = _momentums[index];
        var v = _velocities[index];
        m.add_(gradient.sub(m).mul_(1 - Beta1));
        v.add_(gradient.square().sub_(v).mul_(1 - Beta2));
        var mHat = m.mul(uNext / (1 - productNext)).add_(gradient.mul((1 - uT) / (1 - product)));
        var vHat = v.div(1 - Math.Pow(Beta2, t));
        variable.sub_(mHat.mul_(learningRate).div_(vHat.sqrt_().add_(Epsilon)));
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
