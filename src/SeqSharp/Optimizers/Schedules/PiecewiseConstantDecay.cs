namespace SeqSharp.Optimizers.Schedules;

/// <summary>
/// A piecewise constant rate (Keras <c>PiecewiseConstantDecay</c>): <c>values[0]</c> while
/// <c>step &lt;= boundaries[0]</c>, <c>values[i]</c> while <c>boundaries[i-1] &lt; step &lt;= boundaries[i]</c>,
/// and <c>values[^1]</c> once <c>step &gt; boundaries[^1]</c>.
/// </summary>
/// <example>
/// <code>
/// // 1.0 for steps 0..100000, 0.5 for steps 100001..110000, then 0.1.
/// var schedule = new PiecewiseConstantDecay([100000, 110000], [1.0, 0.5, 0.1]);
/// </code>
/// </example>
public sealed class PiecewiseConstantDecay : LearningRateSchedule
{
    private readonly long[] _boundaries;
    private readonly double[] _values;

    /// <summary>Creates the schedule.</summary>
    /// <param name="boundaries">Strictly increasing step boundaries, at least one.</param>
    /// <param name="values">The rates, one more than <paramref name="boundaries"/>, finite and non-negative.</param>
    /// <exception cref="ArgumentNullException">A null list.</exception>
    /// <exception cref="ArgumentException">Wrong lengths or boundaries that do not increase.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative, infinite or NaN value.</exception>
    public PiecewiseConstantDecay(IReadOnlyList<long> boundaries, IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(boundaries);
        ArgumentNullException.ThrowIfNull(values);
        _boundaries = [.. boundaries];
        _values = [.. values];
        if (_boundaries.Length == 0 || _values.Length != _boundaries.Length + 1)
            throw new ArgumentException(
                "Expected at least one boundary and one more value than boundaries. " +
                $"Received: boundaries=[{string.Join(", ", _boundaries)}] of length {_boundaries.Length}, " +
                $"and values=[{string.Join(", ", _values)}] of length {_values.Length}.", nameof(values));
        for (int i = 1; i < _boundaries.Length; i++)
        {
            if (_boundaries[i] <= _boundaries[i - 1])
                throw new ArgumentException(
                    $"Expected strictly increasing boundaries. Received: boundaries=[{string.Join(", ", _boundaries)}].", nameof(boundaries));
        }
        foreach (double value in _values)
        {
            if (!(double.IsFinite(value) && value >= 0))
                throw new ArgumentOutOfRangeException(nameof(values), value,
                    $"Expected finite, non-negative values. Received: values=[{string.Join(", ", _values)}].");
        }
    }

    /// <summary>The step boundaries.</summary>
    public IReadOnlyList<long> Boundaries => _boundaries;

    /// <summary>The rates of the intervals the boundaries delimit.</summary>
    public IReadOnlyList<double> Values => _values;

    /// <inheritdoc />
    public override double Evaluate(long step)
    {
        Require.Step(step);
        for (int i = 0; i < _boundaries.Length; i++)
        {
            if (step <= _boundaries[i])
                return _values[i];
        }
        return _values[^1];
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig() => new()
    {
        ["boundaries"] = _boundaries.ToList(),
        ["values"] = _values.ToList(),
        ["name"] = "PiecewiseConstant",
    };
}
