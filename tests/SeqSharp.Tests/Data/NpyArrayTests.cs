using System.Diagnostics;
using SeqSharp.Data;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Data;

/// <summary>
/// The memory-mapped .npy reader on files numpy 1.24 wrote (Fixtures/npy, made by
/// tests/reference/make_npy_fixtures.py): the values follow formulas computed here by hand.
/// </summary>
public class NpyArrayTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "npy", name);

    [Fact]
    public void Open_Float32Matrix_ShapeDtypeAndRowsAsNumpyWrote()
    {
        using var a = NpyArray.Open(Fixture("f4_2d.npy"));
        Assert.Equal(new long[] { 4, 3 }, a.Shape);
        Assert.Equal(ScalarType.Float32, a.DType);
        Assert.Equal(Enumerable.Range(0, 12).Select(k => 0.5f * k), a.ReadAll().data<float>().ToArray());
        var rows = a.Read(1, 2);
        Assert.Equal(new long[] { 2, 3 }, rows.shape);
        Assert.Equal(Enumerable.Range(3, 6).Select(k => 0.5f * k), rows.data<float>().ToArray());
    }

    [Theory]
    [InlineData("f8_3d.npy")]
    [InlineData("i8_1d.npy")]
    [InlineData("i4_2d.npy")]
    [InlineData("i2_1d.npy")]
    [InlineData("u1_2d.npy")]
    [InlineData("i1_1d.npy")]
    [InlineData("b1_1d.npy")]
    [InlineData("f2_1d.npy")]
    [InlineData("f4_v2.npy")]
    [InlineData("f4_v3.npy")]
    public void Open_EveryElementTypeAndHeaderVersion_ValuesByFormula(string name)
    {
        using var a = NpyArray.Open(Fixture(name));
        var values = a.ReadAll().to_type(ScalarType.Float64).flatten().data<double>().ToArray();
        Func<int, double> expected = name switch
        {
            "f8_3d.npy" => k => k / 3.0 - 1.0,
            "i8_1d.npy" => k => -7.0 * k,
            "i4_2d.npy" or "i1_1d.npy" => k => k - 2.0,
            "i2_1d.npy" => k => 1000.0 * k,
            "u1_2d.npy" => k => 40.0 * k,
            "b1_1d.npy" => k => k % 2 == 0 ? 1 : 0,
            "f2_1d.npy" => k => 0.25 * k,
            _ => k => k + 1.0,
        };
        Assert.Equal(Enumerable.Range(0, values.Length).Select(expected), values);
        var dtype = name switch
        {
            "f8_3d.npy" => ScalarType.Float64,
            "i8_1d.npy" => ScalarType.Int64,
            "i4_2d.npy" => ScalarType.Int32,
            "i2_1d.npy" => ScalarType.Int16,
            "u1_2d.npy" => ScalarType.Byte,
            "i1_1d.npy" => ScalarType.Int8,
            "b1_1d.npy" => ScalarType.Bool,
            _ => ScalarType.Float32,
        };
        Assert.Equal(dtype, a.DType);
    }

    [Fact]
    public void AsTensor_MapsTheArrayWithoutCopy_SameValuesAsRead()
    {
        using var a = NpyArray.Open(Fixture("f8_3d.npy"));
        var mapped = a.AsTensor();
        Assert.Equal(new long[] { 2, 3, 4 }, mapped.shape);
        Assert.Equal(ScalarType.Float64, mapped.dtype);
        Assert.Equal(a.ReadAll().data<double>().ToArray(), mapped.contiguous().data<double>().ToArray());
        Assert.Equal(23 / 3.0 - 1.0, mapped[1, 2, 3].item<double>());
    }

    [Fact]
    public void Open_ScalarAndEmpty()
    {
        using (var s = NpyArray.Open(Fixture("f4_scalar.npy")))
        {
            Assert.Empty(s.Shape);
            Assert.Equal(2.5f, s.ReadAll().item<float>());
        }
        using var e = NpyArray.Open(Fixture("f4_empty.npy"));
        Assert.Equal(new long[] { 0, 3 }, e.Shape);
        Assert.Equal(new long[] { 0, 3 }, e.ReadAll().shape);
    }

    [Theory]
    [InlineData("f4_fortran.npy", "Fortran-order")]
    [InlineData("f4_bigendian.npy", "'>f4'")]
    [InlineData("object.npy", "'|O'")]
    [InlineData("complex.npy", "'<c8'")]
    public void Open_LayoutsItDoesNotTake_RefusedSayingWhy(string name, string says)
    {
        var e = Assert.Throws<InvalidDataException>(() => NpyArray.Open(Fixture(name)));
        Assert.Contains(says, e.Message);
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Open_TruncatedOrNotNpy_InvalidDataException()
    {
        using var folder = new TempFolder();
        var bytes = File.ReadAllBytes(Fixture("f4_2d.npy"));
        File.WriteAllBytes(folder.File("short.npy"), bytes[..^5]);
        Assert.Contains("needs", Assert.Throws<InvalidDataException>(() => NpyArray.Open(folder.File("short.npy"))).Message);
        File.WriteAllBytes(folder.File("header.npy"), bytes[..40]);
        Assert.Contains("ends inside", Assert.Throws<InvalidDataException>(() => NpyArray.Open(folder.File("header.npy"))).Message);
        File.WriteAllText(folder.File("text.npy"), "hello world, not numpy");
        Assert.Contains("\\x93NUMPY", Assert.Throws<InvalidDataException>(() => NpyArray.Open(folder.File("text.npy"))).Message);
        Assert.Throws<FileNotFoundException>(() => NpyArray.Open(folder.File("missing.npy")));
        using var a = NpyArray.Open(Fixture("f4_2d.npy"));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Read(3, 2));
    }

    [Fact]
    public void Save_ThenOpen_SameValues_AndNumpyReadsIt()
    {
        using var folder = new TempFolder();
        var t = randn(5, 2, 3);
        NpyArray.Save(folder.File("x.npy"), t);
        using (var a = NpyArray.Open(folder.File("x.npy")))
            Assert.Equal(t.data<float>().ToArray(), a.ReadAll().data<float>().ToArray());
        // numpy itself, where Debian's python3-numpy is installed.
        if (!File.Exists("/usr/bin/python3"))
            return;
        var info = new ProcessStartInfo("/usr/bin/python3", ["-c", $"import numpy as n; a = n.load('{folder.File("x.npy")}'); print(a.shape, a.dtype, repr(float(a[4, 1, 2])))"])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(info)!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (output.Contains("No module named 'numpy'"))
            return;
        Assert.Contains("(5, 2, 3) float32", output);
        Assert.Contains(((double)t[4, 1, 2].item<float>()).ToString("R", System.Globalization.CultureInfo.InvariantCulture), output);
    }
}
