using SeqSharp.Data;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Data;

public class CsvTests
{
    private static string Write(TempFolder folder, string text)
    {
        string path = folder.File("data.csv");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void LoadColumns_ByName_InTheOrderAsked()
    {
        using var folder = new TempFolder();
        string path = Write(folder, "month,temp,sales\n2020-01,1.5,10\n2020-02,-2e-1,20\n\n2020-03,3,30\n");
        var values = Csv.LoadColumns(path, "sales", "temp");
        Assert.Equal(new double[,] { { 10, 1.5 }, { 20, -0.2 }, { 30, 3 } }, values);
        Assert.Equal(new double[] { 1.5, -0.2, 3 }, Csv.LoadColumn(path, "temp"));
    }

    [Fact]
    public void LoadColumns_QuotedFieldsAndWindowsLineEndings()
    {
        using var folder = new TempFolder();
        string path = Write(folder, "\"Month\",\"Passengers, total\",\"note\"\r\n\"1949-01\",\"112\",\"a \"\"quoted\"\", text\"\r\n\"1949-02\",118,\r\n");
        Assert.Equal(new double[] { 112, 118 }, Csv.LoadColumn(path, "Passengers, total"));
    }

    [Fact]
    public void LoadColumns_MissingColumns_NamedWithTheHeader()
    {
        using var folder = new TempFolder();
        string path = Write(folder, "month,passengers\n1949-01,112\n");
        var error = Assert.Throws<ArgumentException>(() => Csv.LoadColumns(path, "passengers", "Temp", "rain"));
        Assert.Contains("'Temp', 'rain' not found", error.Message);
        Assert.Contains("'month', 'passengers'", error.Message);
    }

    [Fact]
    public void LoadColumns_NonNumericCell_NamesLineAndColumn()
    {
        using var folder = new TempFolder();
        string path = Write(folder, "month,passengers\n1949-01,112\n1949-02,n/a\n");
        var error = Assert.Throws<FormatException>(() => Csv.LoadColumn(path, "passengers"));
        Assert.Contains("Line 3", error.Message);
        Assert.Contains("'passengers'", error.Message);
        Assert.Contains("\"n/a\"", error.Message);
        // A non-numeric column that is not asked for does not matter.
        Assert.Throws<FormatException>(() => Csv.LoadColumn(path, "month"));
    }

    [Fact]
    public void LoadColumns_EmptyCellOrShortRow_IsAnErrorNamingTheLine()
    {
        using var folder = new TempFolder();
        string path = Write(folder, "a,b\n1,2\n3,\n");
        Assert.Contains("Line 3", Assert.Throws<FormatException>(() => Csv.LoadColumn(path, "b")).Message);
        File.WriteAllText(path, "a,b\n1,2\n3\n");
        Assert.Contains("Line 3", Assert.Throws<FormatException>(() => Csv.LoadColumn(path, "b")).Message);
        Assert.Equal(new double[] { 1, 3 }, Csv.LoadColumn(path, "a"));
    }

    [Fact]
    public void LoadColumns_EmptyFileOrNoColumns_Throw()
    {
        using var folder = new TempFolder();
        string path = Write(folder, "");
        Assert.Throws<InvalidDataException>(() => Csv.LoadColumn(path, "a"));
        Assert.Throws<ArgumentException>(() => Csv.LoadColumns(path));
        Assert.Throws<FileNotFoundException>(() => Csv.LoadColumn(folder.File("missing.csv"), "a"));
    }
}
