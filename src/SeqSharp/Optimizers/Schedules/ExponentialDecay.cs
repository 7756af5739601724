namespace SeqSharp.Optimizers.Schedules;

/// <summary>
/// Exponential decay (Keras <c>ExponentialDecay</c>):
/// <c>initialLearningRate * decayRate ^ (step / decaySteps)</c>, where the exponent is rounded down
/// to an integer when <see cref="Staircase"/> is true.
/// </summary>
/// <example>
/// <code>
/// // 0.1 at step 0, 0.096 from step 100000 on with staircase: true.
/// var schedule = new ExponentialDecay(0.1, decaySteps: 100000, decayRate: 0.96, staircase: true);
/// </code>
/// </example>
public sealed class ExponentialDecay : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initialLearningRate">The rate at step 0, finite and non-negative.</param>
    /// <param name="decaySteps">The number of steps over which the rate is multiplied by <paramref name="decayRate"/>; positive.</param>
    /// <param name="decayRate">The factor per <paramref name="decaySteps"/> steps, finite and non-negative.</param>
    /// <param name="staircase">Whether the rate changes only every <paramref name="decaySteps"/> steps.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside the ranges above.</exception>
    public ExponentialDecay(double initialLearningRate, long decaySteps, double decayRate, bool staircase = false)
    {
        InitialLearningRate = Require.NonNegative(initialLearningRate, nameof(initialLearningRate));
        DecaySteps = Require.PositiveSteps(decaySteps, nameof(decaySteps));
        DecayRate = Require.NonNegative(decayRate, nameof(decayRate));
        Staircase = staircase;
    }

    /// <summary>The rate at step 0.</summary>
    public double InitialLearningRate { get; }

    /// <summary>The number of steps per factor of <see cref="DecayRate"/>.</summary>
    public long DecaySteps { get; }

    /// <summary>The decay factor per <see cref="DecaySteps"/> steps.</summary>
    public double DecayRate { get; }

    /// <summary>Whether the exponent is rounded down to an integer.</summary>
    public bool Staircase { get; }

    /// <inheritdoc />
    public override double Evaluate(long step)
    {
        double p = (double)Require.Step(step) / DecaySteps;
        if (Staircase)
            p = Math.Floor(p);
        return InitialLearningRate * Math.Pow(DecayRate, p);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig() => new()
    {
        ["initial_learning_rate"] = InitialLearningRate,
        ["decay_steps"] = DecaySteps,
        ["decay_rate"] = DecayRate,
        ["staircase"] = Staircase,
        ["name"] = "ExponentialDecay",
    };
}
