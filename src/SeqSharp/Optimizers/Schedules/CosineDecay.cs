namespace SeqSharp.Optimizers.Schedules;

/// <summary>
/// Cosine decay with an optional linear warmup (Keras <c>CosineDecay</c>, after Loshchilov &amp; Hutter's SGDR).
/// </summary>
/// <remarks>
/// <para>Without <see cref="WarmupTarget"/>: with <c>s = min(step, decaySteps)</c>,
/// <c>rate = initialLearningRate * ((1 - alpha) * 0.5 * (1 + cos(π s / decaySteps)) + alpha)</c>.</para>
/// <para>With a warmup target: with <c>s = min(step, warmupSteps + decaySteps)</c>, the rate rises
/// linearly, <c>initialLearningRate + (warmupTarget - initialLearningRate) * s / warmupSteps</c>, while
/// <c>s &lt; warmupSteps</c>; afterwards it is the cosine decay above started from
/// <see cref="WarmupTarget"/> instead of the initial rate, at step <c>s - warmupSteps</c>.</para>
/// </remarks>
/// <example>
/// <code>
/// // From 0 up to 0.1 over 1000 steps, then down to 0.001 over the next 9000.
/// var schedule = new CosineDecay(0.0, decaySteps: 9000, alpha: 0.01, warmupTarget: 0.1, warmupSteps: 1000);
/// </code>
/// </example>
public sealed class CosineDecay : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initialLearningRate">The rate at step 0, finite and non-negative.</param>
    /// <param name="decaySteps">The length of the cosine decay, positive.</param>
    /// <param name="alpha">The final rate as a fraction of the rate the decay starts from, in [0, 1]. Default 0.</param>
    /// <param name="warmupTarget">The rate reached at the end of the warmup; null (default) for no warmup.</param>
    /// <param name="warmupSteps">The length of the warmup, non-negative. Default 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside the ranges above.</exception>
    public CosineDecay(double initialLearningRate, long decaySteps, double alpha = 0.0, double? warmupTarget = null, long warmupSteps = 0)
    {
        InitialLearningRate = Require.NonNegative(initialLearningRate, nameof(initialLearningRate));
        DecaySteps = Require.PositiveSteps(decaySteps, nameof(decaySteps));
        Alpha = Require.Fraction(alpha, nameof(alpha), includeOne: true);
        if (warmupTarget is double target)
            Require.NonNegative(target, nameof(warmupTarget));
        if (warmupSteps < 0)
            throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps,
                $"Expected a non-negative integer for warmupSteps. Received: warmupSteps={warmupSteps}.");
        WarmupTarget = warmupTarget;
        WarmupSteps = warmupSteps;
    }

    /// <summary>The rate at step 0.</summary>
    public double InitialLearningRate { get; }

    /// <summary>The length of the cosine decay in steps.</summary>
    public long DecaySteps { get; }

    /// <summary>The final rate as a fraction of the rate the decay starts from.</summary>
    public double Alpha { get; }

    /// <summary>The rate at the end of the warmup, or null without warmup.</summary>
    public double? WarmupTarget { get; }

    /// <summary>The length of the warmup in steps (used only with a <see cref="WarmupTarget"/>).</summary>
    public long WarmupSteps { get; }

    /// <inheritdoc />
    public override double Evaluate(long step)
    {
        double s = Require.Step(step);
        if (WarmupTarget is not double target)
            return Decayed(Math.Min(s, DecaySteps), InitialLearningRate);
        s = Math.Min(s, (double)DecaySteps + WarmupSteps);
        return s < WarmupSteps
            ? (target - InitialLearningRate) * (s / WarmupSteps) + InitialLearningRate
            : Decayed(s - WarmupSteps, target);
    }

    private double Decayed(double s, double from)
    {
        double cosine = 0.5 * (1.0 + Math.Cos(Math.PI * (s / DecaySteps)));
        return from * ((1 - Alpha) * cosine + Alpha);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig() => new()
    {
        ["initial_learning_rate"] = InitialLearningRate,
        ["decay_steps"] = DecaySteps,
        ["alpha"] = Alpha,
        ["name"] = "CosineDecay",
        ["warmup_target"] = WarmupTarget,
        ["warmup_steps"] = WarmupSteps,
    };
}
