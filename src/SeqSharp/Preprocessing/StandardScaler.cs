namespace SeqSharp.Preprocessing;

/// <summary>
/// Standardizes each feature to mean 0 and standard deviation 1 in the fitted data, as
/// scikit-learn's <c>StandardScaler</c>: <c>y = (x − mean) / std</c> with the population
/// standard deviation (divided by n, not n − 1). A feature that is constant (its variance zero
/// up to rounding) keeps scale 1, so it is only centred.
/// </summary>
/// <example>
/// <code>
/// var scaler = new StandardScaler();
/// Tensor xTrain = scaler.FitTransform(trainFeatures);    // (samples, timesteps, features): per feature over all steps
/// Tensor xTest = scaler.Transform(testFeatures);
/// </code>
/// </example>
public sealed class StandardScaler : Scaler
{
    private const double MachineEpsilon = 2.220446049250313e-16;   // NumPy's finfo(float64).eps

    /// <summary>Each feature's mean in the fitted data (scikit-learn's <c>mean_</c>); null before fitting.</summary>
    public IReadOnlyList<double>? Mean { get; private set; }

    /// <summary>Each feature's population variance in the fitted data (<c>var_</c>); null before fitting.</summary>
    public IReadOnlyList<double>? Var { get; private set; }

    /// <summary>Each feature's divisor: the population standard deviation, or 1 for a constant feature (<c>scale_</c>); null before fitting.</summary>
    public IReadOnlyList<double>? Scale { get; private set; }

    /// <summary>The number of non-NaN values of each feature used by <c>Fit</c> (<c>n_samples_seen_</c>); null before fitting.</summary>
    public IReadOnlyList<long>? SamplesSeen { get; private set; }

    /// <inheritdoc/>
    protected override (double[] Scale, double[] Offset) ComputeScaling(double[][] columns)
    {
        var mean = columns.Select(c => c.Length == 0 ? double.NaN : c.Average()).ToArray();
        var variance = columns.Select((c, j) => c.Length == 0 ? double.NaN : c.Sum(v => (v - mean[j]) * (v - mean[j])) / c.Length).ToArray();
        // scikit-learn's _is_constant_feature: a variance within the rounding error of its computation counts as zero.
        var std = variance.Select((v, j) =>
        {
            double n = columns[j].Length, bound = n * MachineEpsilon * v + Math.Pow(n * mean[j] * MachineEpsilon, 2);
            return v <= bound ? 1.0 : Math.Sqrt(v);
        }).ToArray();
        (Mean, Var, Scale, SamplesSeen) = (mean, variance, std, columns.Select(c => (long)c.Length).ToArray());
        return (std.Select(s => 1 / s).ToArray(), mean.Select((m, j) => -m / std[j]).ToArray());
    }
}
