namespace SeqSharp.Optimizers.Schedules;

/// <summary>
/// A learning rate that never changes. This is what a number passed as <c>learningRate</c> becomes;
/// it is the only schedule whose rate <see cref="Optimizer.LearningRate"/> can set. Keras has no such
/// class (it keeps a plain variable), so an optimizer's config writes it as the number itself.
/// </summary>
public sealed class ConstantSchedule : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="learningRate">The rate, finite and non-negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">The rate is negative, infinite or NaN.</exception>
    public ConstantSchedule(double learningRate) => Value = Require.NonNegative(learningRate, nameof(learningRate));

    /// <summary>The learning rate.</summary>
    public double Value { get; }

    /// <inheritdoc />
    public override double Evaluate(long step)
    {
        Require.Step(step);
        return Value;
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig() => new() { ["learning_rate"] = Value };
}
