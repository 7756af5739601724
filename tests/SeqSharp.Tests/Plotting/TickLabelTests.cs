using SeqSharp.Plotting;

namespace SeqSharp.Tests.Plotting;

/// <summary>Axis tick labels: invariant, no thousands separators (years must read 1959), scientific only at the extremes.</summary>
public class TickLabelTests
{
    [Theory]
    [InlineData(1959, "1959")]
    [InlineData(0, "0")]
    [InlineData(0.05, "0.05")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(0.30000000000000004, "0.3")]
    [InlineData(2500000, "2500000")]
    [InlineData(1e-7, "1E-07")]
    [InlineData(3.2e9, "3.2E+09")]
    public void FormatTick_PlainInvariantNumbers(double value, string expected) =>
        Assert.Equal(expected, Figure.FormatTick(value));

    [Fact]
    public void FormatTick_IgnoresTheCurrentCulture()
    {
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            Assert.Equal("1959.5", Figure.FormatTick(1959.5));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }
}
