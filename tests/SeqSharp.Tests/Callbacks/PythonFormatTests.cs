using SeqSharp.Callbacks;

namespace SeqSharp.Tests.Callbacks;

public class PythonFormatTests
{
    // Expected strings are what CPython 3 prints for repr(x).
    [Theory]
    [InlineData(1.0, "1.0")]
    [InlineData(0.1, "0.1")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00001, "1e-05")]
    [InlineData(-2.5e-7, "-2.5e-07")]
    [InlineData(1234.5, "1234.5")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1234567890123456.0, "1234567890123456.0")]
    [InlineData(123456789012345680.0, "1.2345678901234568e+17")]
    [InlineData(0.30000000000000004, "0.30000000000000004")]
    [InlineData(0.0, "0.0")]
    [InlineData(double.NaN, "nan")]
    [InlineData(double.NegativeInfinity, "-inf")]
    public void Repr_Values_MatchPython(double value, string expected) => Assert.Equal(expected, PythonFormat.Repr(value));

    [Theory]
    [InlineData("{epoch:02d}.weights.h5", "03.weights.h5")]
    [InlineData("{epoch}-{val_loss:.2f}.weights.h5", "3-0.12.weights.h5")]
    [InlineData("{epoch:03d}_{loss:.3e}", "003_1.250e-04")]
    [InlineData("{val_loss}", "0.12345")]
    [InlineData("{val_loss:.0f}", "0")]
    [InlineData("{epoch:5d}|", "    3|")]
    [InlineData("{{epoch}}-{epoch}", "{epoch}-3")]
    [InlineData("no fields", "no fields")]
    public void Format_PythonSpecs_MatchPython(string template, string expected)
    {
        var values = new Dictionary<string, double> { ["epoch"] = 3, ["val_loss"] = 0.12345, ["loss"] = 0.000125 };
        Assert.Equal(expected, PythonFormat.Format(template, values));
    }

    [Fact]
    public void Format_MissingName_ThrowsListingAvailable()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => PythonFormat.Format("{val_acc:.2f}", new Dictionary<string, double> { ["loss"] = 1 }));
        Assert.Contains("'val_acc'", e.Message);
        Assert.Contains("loss", e.Message);
    }

    [Theory]
    [InlineData("{loss:02d}")]   // Python: Unknown format code 'd' for object of type 'float'
    [InlineData("{loss:>8}")]
    [InlineData("{loss")]
    [InlineData("loss}")]
    public void Format_BadTemplate_ThrowsFormatException(string template) =>
        Assert.Throws<FormatException>(() => PythonFormat.Format(template, new Dictionary<string, double> { ["loss"] = 0.5 }));
}
