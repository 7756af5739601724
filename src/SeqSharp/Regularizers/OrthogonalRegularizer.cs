using static TorchSharp.torch;

namespace SeqSharp.Regularizers;

/// <summary>
/// Pushes the rows (or columns) of a 2-D weight towards orthogonality (Keras
/// <c>keras.regularizers.OrthogonalRegularizer</c>): with the rows L2-normalised (Keras's
/// <c>x / sqrt(max(Σx², 1e-14))</c>), <c>factor · 0.5 · Σ_{i≠j} |r_i · r_j| / (n(n-1)/2)</c>.
/// </summary>
/// <example>
/// <code>
/// model.Add(new Dense(4, kernelRegularizer: new OrthogonalRegularizer(factor: 0.01)));
/// </code>
/// </example>
public sealed class OrthogonalRegularizer : Regularizer
{
    /// <summary>Creates the regularizer.</summary>
    /// <param name="factor">The factor. Default 0.01.</param>
    /// <param name="mode"><c>"rows"</c> (default) or <c>"columns"</c>.</param>
    /// <exception cref="ArgumentException">An unknown mode.</exception>
    public OrthogonalRegularizer(double factor = 0.01, string mode = "rows")
    {
        if (mode is not ("rows" or "columns"))
            throw new ArgumentException($"Invalid value for argument mode. Expected one of {{\"rows\", \"columns\"}}. Received: mode={(mode is null ? "null" : $"\"{mode}\"")}.", nameof(mode));
        Factor = factor;
        Mode = mode;
    }

    /// <summary>The factor.</summary>
    public double Factor { get; }

    /// <summary><c>"rows"</c> or <c>"columns"</c>.</summary>
    public string Mode { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">An input that is not 2-D.</exception>
    public override Tensor Compute(Tensor x)
    {
        if (x.dim() != 2)
            throw new ArgumentException($"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape=[{string.Join(", ", x.shape)}].");
        var rows = Mode == "rows" ? x : x.t();
        var normalized = Losses.CosineSimilarity.Normalize(rows, 1);
        var product = normalized.matmul(normalized.t());
        long size = rows.shape[0];
        var offDiagonal = product * (1.0 - eye(size, dtype: x.dtype, device: x.device));
        double pairs = size * (size - 1.0) / 2.0;
        return offDiagonal.abs().sum() * (Factor * 0.5 / pairs);
    }

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig() => new() { ["factor"] = Factor, ["mode"] = Mode };
}
