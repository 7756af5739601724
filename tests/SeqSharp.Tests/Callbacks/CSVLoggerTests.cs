using System.Globalization;
using SeqSharp.Callbacks;
using SeqSharp.Tests.TestSupport;
using static SeqSharp.Tests.Callbacks.CallbackHarness;

namespace SeqSharp.Tests.Callbacks;

public class CSVLoggerTests
{
    private static string[] Lines(string path)
    {
        string text = File.ReadAllText(path);
        Assert.EndsWith("\r\n", text);
        return text[..^2].Split("\r\n");
    }

    [Fact]
    public void Fit_WithValidation_WritesEpochThenSortedKeysAndTheHistoryValues()
    {
        using var folder = new TempFolder();
        var path = folder.File("log.csv");
        var model = TinyDense(1, metrics: ["mae"]);
        var (x, y) = Line(2, 12);
        var history = model.Fit(x, y, batchSize: 4, epochs: 3, verbose: 0, validationSplit: 0.25, callbacks: [new CSVLogger(path)]);

        var lines = Lines(path);
        Assert.Equal("epoch,loss,mae,val_loss,val_mae", lines[0]);
        Assert.Equal(4, lines.Length);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var fields = lines[epoch + 1].Split(',');
            Assert.Equal(epoch.ToString(CultureInfo.InvariantCulture), fields[0]);
            Assert.Equal(history["loss"][epoch], double.Parse(fields[1], CultureInfo.InvariantCulture));
            Assert.Equal(history["mae"][epoch], double.Parse(fields[2], CultureInfo.InvariantCulture));
            Assert.Equal(history["val_loss"][epoch], double.Parse(fields[3], CultureInfo.InvariantCulture));
            Assert.Equal(history["val_mae"][epoch], double.Parse(fields[4], CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public void Fit_WithoutValidation_AddsValColumnsFilledWithNA()
    {
        using var folder = new TempFolder();
        var path = folder.File("log.csv");
        var model = TinyDense(3);
        var (x, y) = Line(4, 8);
        model.Fit(x, y, epochs: 2, verbose: 0, callbacks: [new CSVLogger(path)]);
        var lines = Lines(path);
        Assert.Equal("epoch,loss,val_loss", lines[0]);
        Assert.EndsWith(",NA", lines[1]);
        Assert.StartsWith("1,", lines[2]);
    }

    [Fact]
    public void OnEpochEnd_ValuesAndKeys_FormattedAsPythonCsv()
    {
        using var folder = new TempFolder();
        var path = folder.File("log.csv");
        var logger = Attach(new CSVLogger(path, separator: ';'), TinyDense(5));
        logger.OnTrainBegin(Logs());
        logger.OnEpochEnd(0, Logs(("zeta", 1.0), ("alpha", 1e-05), ("val_b;c", 0.25)));
        logger.OnEpochEnd(1, Logs(("zeta", 2.5), ("alpha", 0.1)));
        logger.OnTrainEnd(Logs());
        // Ordinal sort; a val_ key exists, so none are added; the field holding the separator is quoted.
        Assert.Equal(["epoch;alpha;\"val_b;c\";zeta", "0;1e-05;0.25;1.0", "1;0.1;NA;2.5"], Lines(path));
    }

    [Fact]
    public void Fit_EachEpoch_IsFlushedBeforeTheNextStarts()
    {
        using var folder = new TempFolder();
        var path = folder.File("log.csv");
        var model = TinyDense(6);
        var (x, y) = Line(7, 8);
        var seen = new List<int>();
        model.Fit(x, y, epochs: 3, verbose: 0, callbacks:
        [
            new CSVLogger(path),
            new LambdaCallback(onEpochEnd: (_, _) =>
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var reader = new StreamReader(stream);
                seen.Add(reader.ReadToEnd().Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
            }),
        ]);
        Assert.Equal([2, 3, 4], seen);   // header plus one row per finished epoch
    }

    [Fact]
    public void Fit_Append_ContinuesWithoutSecondHeader()
    {
        using var folder = new TempFolder();
        var path = folder.File("log.csv");
        var model = TinyDense(8);
        var (x, y) = Line(9, 8);
        model.Fit(x, y, epochs: 2, verbose: 0, callbacks: [new CSVLogger(path, append: true)]);
        model.Fit(x, y, epochs: 4, initialEpoch: 2, verbose: 0, callbacks: [new CSVLogger(path, append: true)]);
        var lines = Lines(path);
        Assert.Equal(5, lines.Length);
        Assert.Equal(["epoch", "0", "1", "2", "3"], lines.Select(l => l.Split(',')[0]));
    }

    [Fact]
    public void Fit_NoAppend_ReplacesTheFile()
    {
        using var folder = new TempFolder();
        var path = folder.File("log.csv");
        File.WriteAllText(path, "old,contents\r\n1,2\r\n3,4\r\n");
        var model = TinyDense(10);
        var (x, y) = Line(11, 4);
        model.Fit(x, y, epochs: 1, verbose: 0, callbacks: [new CSVLogger(path)]);
        Assert.Equal(2, Lines(path).Length);
        Assert.StartsWith("epoch,", Lines(path)[0]);
    }

    [Fact]
    public void Fit_AfterReduceLROnPlateau_RecordsLearningRateColumn()
    {
        using var folder = new TempFolder();
        var path = folder.File("log.csv");
        var model = TinyDense(12, learningRate: 0.2);
        var (x, y) = Line(13, 4);
        model.Fit(x, y, epochs: 1, verbose: 0, callbacks: [new ReduceLROnPlateau(monitor: "loss"), new CSVLogger(path)]);
        Assert.Equal("epoch,learning_rate,loss,val_learning_rate,val_loss", Lines(path)[0]);
        Assert.StartsWith("0,0.2,", Lines(path)[1]);
    }

    [Fact]
    public void Constructor_BadArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => new CSVLogger(""));
        Assert.Contains("separator=34", Assert.Throws<ArgumentException>(() => new CSVLogger("a.csv", separator: '"')).Message);
    }
}
