using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Initializers;

/// <summary>
/// A random orthogonal matrix (Keras <c>Orthogonal</c>, the default recurrent kernel initializer):
/// the Q factor of the QR decomposition of a normal matrix, with the signs of R's diagonal folded in.
/// A <c>(rows, cols)</c> result with rows &lt; cols has orthonormal rows (<c>W Wᵀ = gain² I</c>);
/// otherwise orthonormal columns.
/// </summary>
public sealed class Orthogonal : Initializer
{
    /// <summary>Creates the initializer.</summary>
    /// <param name="gain">Multiplies the orthogonal matrix.</param>
    public Orthogonal(double gain = 1.0) => Gain = gain;

    /// <summary>The multiplicative factor.</summary>
    public double Gain { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A shape of rank below 2.</exception>
    public override Tensor Create(long[] shape, ScalarType dtype)
    {
        if (shape.Length < 2)
            throw new ArgumentException($"The orthogonal initializer needs a shape of rank 2 or more. Received: shape=[{string.Join(", ", shape)}].", nameof(shape));
        long rows = 1;
        for (int k = 0; k < shape.Length - 1; k++)
            rows *= shape[k];
        long cols = shape[^1];
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var a = torch.randn(new[] { Math.Max(rows, cols), Math.Min(rows, cols) }, ScalarType.Float64);
        var (q, r) = torch.linalg.qr(a);
        q = q * r.diagonal().sign();
        if (rows < cols)
            q = q.t();
        return (q * Gain).reshape(shape).to(dtype).contiguous().MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?> { ["gain"] = Gain };
}
