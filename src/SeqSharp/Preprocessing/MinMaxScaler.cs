namespace SeqSharp.Preprocessing;

/// <summary>
/// Scales each feature to <see cref="FeatureRange"/> (default [0, 1]) by its minimum and maximum
/// in the fitted data, as scikit-learn's <c>MinMaxScaler</c>:
/// <c>y = (x − min) / (max − min) · (high − low) + low</c>, computed as <c>x · Scale + Min</c>.
/// A feature whose range is zero (up to rounding) gets range 1, so it maps to <c>low</c> plus its
/// distance from the minimum. Values outside the fitted range map outside the feature range (no clipping).
/// </summary>
/// <example>
/// <code>
/// var scaler = new MinMaxScaler();
/// double[] trainScaled = scaler.FitTransform(train);          // fit on the training part only
/// double[] testScaled = scaler.Transform(test);
/// Tensor passengers = scaler.InverseTransform(model.Predict(xTest));
/// </code>
/// </example>
public sealed class MinMaxScaler : Scaler
{
    private const double MachineEpsilon = 2.220446049250313e-16;   // NumPy's finfo(float64).eps

    /// <summary>Makes a scaler to the range <paramref name="featureRange"/>; default (0, 1).</summary>
    /// <param name="featureRange">The desired range of the transformed data, <c>(low, high)</c> with <c>low &lt; high</c>; null for (0, 1).</param>
    /// <exception cref="ArgumentException"><c>low</c> is not below <c>high</c>.</exception>
    public MinMaxScaler((double Low, double High)? featureRange = null)
    {
        var range = featureRange ?? (0.0, 1.0);
        if (!(range.Low < range.High))
            throw new ArgumentException(
                $"Minimum of desired feature range must be smaller than maximum. Got ({range.Low}, {range.High}).", nameof(featureRange));
        FeatureRange = range;
    }

    /// <summary>The range the fitted data is mapped to.</summary>
    public (double Low, double High) FeatureRange { get; }

    /// <summary>Each feature's minimum in the fitted data (scikit-learn's <c>data_min_</c>); null before fitting.</summary>
    public IReadOnlyList<double>? DataMin { get; private set; }

    /// <summary>Each feature's maximum in the fitted data (<c>data_max_</c>); null before fitting.</summary>
    public IReadOnlyList<double>? DataMax { get; private set; }

    /// <summary>Each feature's <c>max − min</c> in the fitted data (<c>data_range_</c>); null before fitting.</summary>
    public IReadOnlyList<double>? DataRange { get; private set; }

    /// <summary>Each feature's factor <c>(high − low) / range</c> (<c>scale_</c>); null before fitting.</summary>
    public IReadOnlyList<double>? Scale { get; private set; }

    /// <summary>Each feature's offset <c>low − min · Scale</c> (<c>min_</c>); null before fitting.</summary>
    public IReadOnlyList<double>? Min { get; private set; }

    /// <inheritdoc/>
    protected override (double[] Scale, double[] Offset) ComputeScaling(double[][] columns)
    {
        var (low, high) = FeatureRange;
        var min = columns.Select(c => c.Length == 0 ? double.NaN : c.Min()).ToArray();
        var max = columns.Select(c => c.Length == 0 ? double.NaN : c.Max()).ToArray();
        var range = min.Select((m, j) => max[j] - m).ToArray();
        var scale = range.Select(r => (high - low) / (r < 10 * MachineEpsilon ? 1.0 : r)).ToArray();
        var offset = min.Select((m, j) => low - m * scale[j]).ToArray();
        (DataMin, DataMax, DataRange, Scale, Min) = (min, max, range, scale, offset);
        return (scale, offset);
    }
}
