using System.Numerics;
using SeqSharp.Layers.Kernels;

namespace SeqSharp.Tests.Activations;

/// <summary>The kernels' float exp (sigmoid and tanh are built on it) against double-precision Math.Exp.</summary>
public class VectorExpTests
{
    [Fact]
    public void ExpSingle_AcrossTheNormalRange_WithinThreeUlps()
    {
        // 200,001 points from -87 to 88 (every result a normal float), plus the activations' usual range densely.
        var points = Enumerable.Range(0, 200_001).Select(k => -87.0 + 175.0 * k / 200_000)
            .Concat(Enumerable.Range(0, 100_001).Select(k => -10.0 + 10.0 * k / 100_000))
            .Select(v => (float)v).ToArray();
        double worst = 0;
        float worstAt = 0;
        int width = Vector<float>.Count;
        for (int i = 0; i + width <= points.Length; i += width)
        {
            var y = VectorMath.ExpSingle(new Vector<float>(points, i));
            for (int lane = 0; lane < width; lane++)
            {
                double exact = Math.Exp(points[i + lane]);
                double ulp = (double)MathF.BitIncrement((float)exact) - (float)exact;   // one float ulp at the result
                double error = Math.Abs(y[lane] - exact) / Math.Max(ulp, double.Epsilon);
                if (error > worst)
                    (worst, worstAt) = (error, points[i + lane]);
            }
        }
        Assert.True(worst <= 3, $"worst error {worst:F2} ulp at x = {worstAt}");
    }

    [Theory]
    [InlineData(-1000f, 0.0)]
    [InlineData(-88f, 0.0)]
    [InlineData(0f, 1.0)]
    public void ExpSingle_ClampsInsteadOfOverflowing(float x, double expectedAtMost)
    {
        var y = VectorMath.ExpSingle(new Vector<float>(x))[0];
        Assert.True(float.IsFinite(y) && y >= 0 && y <= Math.Max(expectedAtMost, 1.2e-38) * 1.0000001, $"exp({x}) = {y}");
    }

    [Theory]
    [InlineData(88.5f)]
    [InlineData(1000f)]
    public void ExpSingle_NearAndPastFloatOverflow_PositiveInfinityNeverNaN(float x)
    {
        // Within 0.35 of float overflow (x > 88.376) the result is +∞, as IEEE overflow would be a little later.
        var y = VectorMath.ExpSingle(new Vector<float>(x))[0];
        Assert.True(float.IsPositiveInfinity(y), $"exp({x}) = {y}");
    }
}
