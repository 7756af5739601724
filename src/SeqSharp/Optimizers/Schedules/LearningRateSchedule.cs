namespace SeqSharp.Optimizers.Schedules;

/// <summary>
/// A learning rate that depends on the optimizer step (Keras
/// <c>keras.optimizers.schedules.LearningRateSchedule</c>). An optimizer evaluates its schedule at
/// <see cref="Optimizer.Iterations"/> before every update, so the first update uses step 0.
/// A number converts implicitly to a <see cref="ConstantSchedule"/>, so
/// <c>new Adam(learningRate: 1e-3)</c> and <c>new Adam(learningRate: new ExponentialDecay(1e-2, 1000, 0.9))</c> both work.
/// </summary>
/// <example>
/// <code>
/// var schedule = new ExponentialDecay(initialLearningRate: 1e-2, decaySteps: 10000, decayRate: 0.9);
/// var optimizer = new SGD(learningRate: schedule);
/// </code>
/// </example>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate at optimizer step <paramref name="step"/> (the number of updates applied before this one).</summary>
    /// <param name="step">A non-negative step index.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    public abstract double Evaluate(long step);

    /// <summary>The Keras class name, e.g. <c>ExponentialDecay</c>.</summary>
    public virtual string ClassName => GetType().Name;

    /// <summary>The constructor arguments by their Keras names (<c>initial_learning_rate</c>, <c>decay_steps</c>, ...).</summary>
    public abstract Dictionary<string, object?> GetConfig();

    /// <summary>
    /// Rebuilds a schedule from its Keras class name and config (what <see cref="GetConfig"/> returns,
    /// or Keras's <c>schedule.get_config()</c> read from JSON); the <c>name</c> key is ignored.
    /// </summary>
    /// <param name="className">The Keras class name, e.g. <c>"ExponentialDecay"</c>.</param>
    /// <param name="config">The config; values may be CLR values or <c>JsonElement</c>s.</param>
    /// <returns>A new schedule.</returns>
    /// <exception cref="ArgumentException">An unknown class (the message lists the known ones), an unknown or missing key, or an invalid value.</exception>
    public static LearningRateSchedule FromConfig(string className, IReadOnlyDictionary<string, object?> config) =>
        Saving.ConfigActivator.Create<LearningRateSchedule>("Schedule", className, config, Saving.ConfigActivator.Ignorable.Any("name"));

    /// <summary>A constant learning rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The rate is negative, infinite or NaN.</exception>
    public static implicit operator LearningRateSchedule(double learningRate) => new ConstantSchedule(learningRate);
}
