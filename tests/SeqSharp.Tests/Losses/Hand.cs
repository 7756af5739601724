namespace SeqSharp.Tests.Losses;

/// <summary>Small arrays as tensors, and plain-double references for the loss and metric tests.</summary>
internal static class Hand
{
    /// <summary>A float64 tensor of the given shape from row-major values.</summary>
    public static Tensor T(double[] values, params long[] shape) => tensor(values, shape, ScalarType.Float64);

    /// <summary>A float32 tensor of the given shape from row-major values.</summary>
    public static Tensor F32(double[] values, params long[] shape) =>
        tensor(values.Select(v => (float)v).ToArray(), shape, ScalarType.Float32);

    public static double[] Values(Tensor t) => t.detach().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();

    /// <summary>Asserts the tensor holds <paramref name="expected"/> (row-major) within <paramref name="tolerance"/>.</summary>
    public static void Close(double[] expected, Tensor actual, double tolerance = 1e-12)
    {
        var values = Values(actual);
        Assert.Equal(expected.Length, values.Length);
        for (int i = 0; i < values.Length; i++)
            Assert.True(Math.Abs(expected[i] - values[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])),
                $"Element {i}: expected {expected[i]:R}, got {values[i]:R}.");
    }

    /// <summary>Asserts <c>|expected - actual| &lt;= tolerance</c>, for values quoted from documentation to a few digits.</summary>
    public static void Near(double expected, double actual, double tolerance = 1e-3) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"Expected {expected} ± {tolerance}, got {actual:R}.");

    public static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    public static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    public static double Clip(double p) => Math.Clamp(p, 1e-7, 1 - 1e-7);

    /// <summary>Means of consecutive groups of <paramref name="size"/> values (the last axis reduced).</summary>
    public static double[] RowMeans(double[] values, int size) =>
        Enumerable.Range(0, values.Length / size).Select(r => values.Skip(r * size).Take(size).Average()).ToArray();

    /// <summary>Central finite differences of a scalar function of <paramref name="x"/> (float64).</summary>
    public static Tensor NumericGradient(Func<Tensor, Tensor> f, Tensor x, double h = 1e-6)
    {
        using var _ = no_grad();
        var flat = x.detach().clone().reshape(-1);
        var grad = zeros_like(flat);
        for (long i = 0; i < flat.shape[0]; i++)
        {
            double v = flat[i].item<double>();
            flat[i].fill_(v + h);
            double up = f(flat.reshape(x.shape)).item<double>();
            flat[i].fill_(v - h);
            double down = f(flat.reshape(x.shape)).item<double>();
            flat[i].fill_(v);
            grad[i].fill_((up - down) / (2 * h));
        }
        return grad.reshape(x.shape);
    }

    /// <summary>The gradient of <paramref name="f"/> at <paramref name="x"/> by autograd.</summary>
    public static Tensor Gradient(Func<Tensor, Tensor> f, Tensor x)
    {
        var leaf = x.detach().clone().requires_grad_(true);
        f(leaf).backward();
        return leaf.grad!.detach().clone();
    }
}
