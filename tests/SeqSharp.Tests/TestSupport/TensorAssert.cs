namespace SeqSharp.Tests.TestSupport;

/// <summary>Element-wise comparisons that report the largest difference found.</summary>
internal static class TensorAssert
{
    /// <summary>Asserts equal shapes and <c>|expected - actual| &lt;= atol + rtol * |expected|</c> everywhere.</summary>
    public static double Close(Tensor expected, Tensor actual, double atol = 1e-5, double rtol = 0, string what = "tensor")
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape [{string.Join(", ", actual.shape)}] differs from the expected [{string.Join(", ", expected.shape)}].");
        using var scope = NewDisposeScope();
        var e = expected.detach().to_type(ScalarType.Float64);
        var a = actual.detach().to_type(ScalarType.Float64);
        var diff = (e - a).abs();
        double maxDiff = diff.numel() == 0 ? 0 : diff.max().item<double>();
        var excess = diff - (atol + rtol * e.abs());
        double worst = excess.numel() == 0 ? double.NegativeInfinity : excess.max().item<double>();
        Assert.False(double.IsNaN(maxDiff), $"{what}: NaN in the comparison.");
        Assert.True(worst <= 0, $"{what}: max |difference| {maxDiff:E3} exceeds atol {atol:E1} + rtol {rtol:E1}·|expected|.");
        return maxDiff;
    }
}
