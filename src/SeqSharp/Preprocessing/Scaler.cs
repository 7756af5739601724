using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Preprocessing;

/// <summary>
/// A per-feature affine rescaling learned from data, with scikit-learn's
/// <c>fit</c> / <c>transform</c> / <c>fit_transform</c> / <c>inverse_transform</c>: this base owns
/// the input shapes and checks, a subclass only computes each feature's scale and offset.
/// </summary>
/// <remarks>
/// Features are columns: a <c>double[samples, features]</c> array, a <c>double[]</c> (one
/// feature), or a tensor whose last axis holds the features and whose other axes all count as
/// samples (so a <c>(samples, timesteps, features)</c> batch is scaled per feature over all its
/// steps; a rank-1 tensor is one feature). Statistics are computed in double precision, ignoring
/// NaN values as scikit-learn does; transforms keep NaN as NaN. Transformed tensors keep a
/// floating element type (integer tensors become float32).
/// </remarks>
public abstract class Scaler
{
    private double[]? _scale;
    private double[]? _offset;

    /// <summary>The number of features seen by <c>Fit</c> (scikit-learn's <c>n_features_in_</c>); null before fitting.</summary>
    public int? FeatureCount => _scale?.Length;

    /// <summary>Whether <c>Fit</c> has been called.</summary>
    public bool IsFitted => _scale is not null;

    /// <summary>Learns each feature's statistics from <paramref name="x"/>, <c>(samples, features)</c>.</summary>
    /// <returns>This scaler.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> has no samples or no features.</exception>
    public Scaler Fit(double[,] x)
    {
        ArgumentNullException.ThrowIfNull(x);
        int samples = x.GetLength(0), features = x.GetLength(1);
        if (samples == 0 || features == 0)
            throw new ArgumentException(
                $"Found array with {samples} sample(s) and {features} feature(s) (shape=({samples}, {features})) while a minimum of 1 of each is required by {GetType().Name}.", nameof(x));
        var columns = new double[features][];
        for (int j = 0; j < features; j++)
        {
            var column = new List<double>(samples);
            for (int i = 0; i < samples; i++)
                if (!double.IsNaN(x[i, j]))
                    column.Add(x[i, j]);
            columns[j] = column.ToArray();
        }
        (_scale, _offset) = ComputeScaling(columns);
        return this;
    }

    /// <summary>Learns the statistics of one feature, the values of <paramref name="x"/>.</summary>
    /// <returns>This scaler.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is empty.</exception>
    public Scaler Fit(double[] x) => Fit(AsColumn(x));

    /// <summary>Learns each feature's statistics from <paramref name="x"/>: features on the last axis, samples on all the others.</summary>
    /// <returns>This scaler.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is a scalar or has no samples.</exception>
    public Scaler Fit(Tensor x) => Fit(ToArray(x));

    /// <summary>Scales <paramref name="x"/>, <c>(samples, features)</c>, with the fitted statistics.</summary>
    /// <returns>A new array of the same shape.</returns>
    /// <exception cref="InvalidOperationException">The scaler is not fitted.</exception>
    /// <exception cref="ArgumentException"><paramref name="x"/> has another number of features than the data it was fitted on.</exception>
    public double[,] Transform(double[,] x) => Apply(x, inverse: false);

    /// <summary>Scales the values of one feature; the scaler must have been fitted on one feature.</summary>
    /// <returns>A new array of the same length.</returns>
    /// <exception cref="InvalidOperationException">The scaler is not fitted.</exception>
    /// <exception cref="ArgumentException">The scaler was fitted on more than one feature.</exception>
    public double[] Transform(double[] x) => FromColumn(Apply(AsColumn(x), inverse: false));

    /// <summary>Scales <paramref name="x"/>, features on the last axis.</summary>
    /// <returns>A new tensor of the same shape.</returns>
    /// <exception cref="InvalidOperationException">The scaler is not fitted.</exception>
    /// <exception cref="ArgumentException"><paramref name="x"/> has another number of features than the data it was fitted on.</exception>
    public Tensor Transform(Tensor x) => Apply(x, inverse: false);

    /// <summary>Undoes <see cref="Transform(double[,])"/>: values back in the units of the fitted data.</summary>
    /// <returns>A new array of the same shape.</returns>
    /// <exception cref="InvalidOperationException">The scaler is not fitted.</exception>
    /// <exception cref="ArgumentException"><paramref name="x"/> has another number of features than the data it was fitted on.</exception>
    public double[,] InverseTransform(double[,] x) => Apply(x, inverse: true);

    /// <summary>Undoes <see cref="Transform(double[])"/> for a scaler fitted on one feature.</summary>
    /// <returns>A new array of the same length.</returns>
    /// <exception cref="InvalidOperationException">The scaler is not fitted.</exception>
    /// <exception cref="ArgumentException">The scaler was fitted on more than one feature.</exception>
    public double[] InverseTransform(double[] x) => FromColumn(Apply(AsColumn(x), inverse: true));

    /// <summary>Undoes <see cref="Transform(Tensor)"/>, features on the last axis (e.g. a model's scaled predictions back to the data's units).</summary>
    /// <returns>A new tensor of the same shape.</returns>
    /// <exception cref="InvalidOperationException">The scaler is not fitted.</exception>
    /// <exception cref="ArgumentException"><paramref name="x"/> has another number of features than the data it was fitted on.</exception>
    public Tensor InverseTransform(Tensor x) => Apply(x, inverse: true);

    /// <summary><see cref="Fit(double[,])"/>, then <see cref="Transform(double[,])"/> of the same data.</summary>
    /// <returns>The scaled data, a new array.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> has no samples or no features.</exception>
    public double[,] FitTransform(double[,] x) => Fit(x).Transform(x);

    /// <summary><see cref="Fit(double[])"/>, then <see cref="Transform(double[])"/> of the same values.</summary>
    /// <returns>The scaled values, a new array.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is empty.</exception>
    public double[] FitTransform(double[] x) => Fit(x).Transform(x);

    /// <summary><see cref="Fit(Tensor)"/>, then <see cref="Transform(Tensor)"/> of the same tensor.</summary>
    /// <returns>The scaled data, a new tensor.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> is a scalar or has no samples.</exception>
    public Tensor FitTransform(Tensor x) => Fit(x).Transform(x);

    /// <summary>
    /// Each feature's transform <c>y = x · scale + offset</c>, from the feature's values
    /// (<paramref name="columns"/>[j], NaN removed, possibly empty when a column is all NaN).
    /// </summary>
    protected abstract (double[] Scale, double[] Offset) ComputeScaling(double[][] columns);

    private double[,] Apply(double[,] x, bool inverse)
    {
        ArgumentNullException.ThrowIfNull(x);
        var (scale, offset) = Fitted(x.GetLength(1));
        var result = new double[x.GetLength(0), x.GetLength(1)];
        for (int i = 0; i < x.GetLength(0); i++)
            for (int j = 0; j < x.GetLength(1); j++)
                result[i, j] = inverse ? (x[i, j] - offset[j]) / scale[j] : x[i, j] * scale[j] + offset[j];
        return result;
    }

    private Tensor Apply(Tensor x, bool inverse)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() == 0)
            throw new ArgumentException($"Expected a tensor with features on the last axis. Received a scalar (rank 0).", nameof(x));
        var (scale, offset) = Fitted(x.dim() == 1 ? 1 : (int)x.shape[^1]);
        var dtype = x.is_floating_point() ? x.dtype : ScalarType.Float32;
        using var scaleTensor = torch.tensor(scale, dtype: dtype, device: x.device);
        using var offsetTensor = torch.tensor(offset, dtype: dtype, device: x.device);
        using var detached = x.detach();
        using var values = detached.to_type(dtype);
        if (inverse)
        {
            using var shifted = values - offsetTensor;
            return shifted / scaleTensor;
        }
        using var scaled = values * scaleTensor;
        return scaled + offsetTensor;
    }

    private (double[] Scale, double[] Offset) Fitted(int features)
    {
        if (_scale is null || _offset is null)
            throw new InvalidOperationException(
                $"This {GetType().Name} instance is not fitted yet. Call Fit with appropriate arguments before using this estimator.");
        if (features != _scale.Length)
            throw new ArgumentException($"X has {features} features, but {GetType().Name} is expecting {_scale.Length} features as input.", "x");
        return (_scale, _offset);
    }

    private static double[,] AsColumn(double[] x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var column = new double[x.Length, 1];
        for (int i = 0; i < x.Length; i++)
            column[i, 0] = x[i];
        return column;
    }

    private static double[] FromColumn(double[,] x)
    {
        var values = new double[x.GetLength(0)];
        for (int i = 0; i < values.Length; i++)
            values[i] = x[i, 0];
        return values;
    }

    private static double[,] ToArray(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() == 0)
            throw new ArgumentException($"Expected a tensor with features on the last axis. Received a scalar (rank 0).", nameof(x));
        long features = x.dim() == 1 ? 1 : x.shape[^1];
        using var detached = x.detach();
        using var asDouble = detached.to(ScalarType.Float64, torch.CPU);
        using var rows = asDouble.reshape(-1, features).contiguous();
        var flat = rows.data<double>().ToArray();
        var result = new double[rows.shape[0], features];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(double));
        return result;
    }
}
