using SeqSharp.Plotting;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Plotting;

public class HistoryPlotExtensionsTests
{
    private static History Recorded(int epochs, bool validation = true)
    {
        var history = new History();
        for (int e = 0; e < epochs; e++)
        {
            var logs = new Dictionary<string, double> { ["loss"] = 1.0 / (e + 1), ["mae"] = 0.5 / (e + 1) };
            if (validation)
            {
                logs["val_loss"] = 1.2 / (e + 1);
                logs["val_mae"] = 0.6 / (e + 1);
            }
            history.OnEpochEnd(e, logs);
        }
        return history;
    }

    [Fact]
    public void Plot_HistoryOfRealFit_WritesPngOfDefaultSize()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(16);
        model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae"]);
        var history = model.Fit(x, y, batchSize: 8, epochs: 3, verbose: 0, validationSplit: 0.25);
        using var temp = new TempFolder();

        string written = history.Plot(temp.File("loss.png"));

        Assert.Equal(temp.File("loss.png"), written);
        PngFile.AssertSize(written, 800, 450);
    }

    [Fact]
    public void Plot_TwoMetrics_OnePanelEachAndRequestedSize()
    {
        using var temp = new TempFolder();

        string written = Recorded(5).Plot(temp.File("curves.png"), ["loss", "mae"], width: 640, height: 720, title: "Run 1");

        PngFile.AssertSize(written, 640, 720);
    }

    [Fact]
    public void Plot_DefaultHeight_GrowsWithPanels()
    {
        using var temp = new TempFolder();

        string written = Recorded(4, validation: false).Plot(temp.File("curves.png"), "loss", "mae");

        PngFile.AssertSize(written, 800, 900);
    }

    [Fact]
    public void Plot_NameFirstLoggedLate_IsDrawnOverTheLastEpochs()
    {
        var history = new History();
        for (int e = 0; e < 5; e++)
        {
            var logs = new Dictionary<string, double> { ["loss"] = 1.0 / (e + 1) };
            if (e >= 2)
                logs["learning_rate"] = 0.001;
            history.OnEpochEnd(e, logs);
        }
        using var temp = new TempFolder();

        string written = history.Plot(temp.File("lr.png"), "loss", "learning_rate");

        PngFile.AssertSize(written, 800, 900);
    }

    [Fact]
    public void Plot_OneEpoch_WritesPng()
    {
        using var temp = new TempFolder();

        PngFile.AssertSize(Recorded(1).Plot(temp.File("one.png")), 800, 450);
    }

    [Fact]
    public void Plot_MissingFolder_IsCreated()
    {
        using var temp = new TempFolder();
        string path = Path.Combine(temp.Path, "plots", "nested", "loss.png");

        Recorded(2).Plot(path);

        PngFile.AssertSize(path, 800, 450);
    }

    [Theory]
    [InlineData("accuracy")]
    [InlineData("val_loss")]
    [InlineData("")]
    public void Plot_UnknownMetric_ThrowsListingRecordedNamesAndWritesNothing(string metric)
    {
        using var temp = new TempFolder();
        string path = temp.File("bad.png");

        var error = Assert.Throws<ArgumentException>(() => Recorded(3).Plot(path, metric));

        Assert.Contains($"Received: '{metric}'", error.Message);
        Assert.Contains("Recorded: loss, mae, val_loss, val_mae", error.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Plot_EmptyHistory_ThrowsAndWritesNothing()
    {
        using var temp = new TempFolder();
        string path = temp.File("bad.png");

        var error = Assert.Throws<ArgumentException>(() => new History().Plot(path));

        Assert.Contains("at least one epoch", error.Message);
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData(0, 400)]
    [InlineData(400, -1)]
    public void Plot_NonPositiveSize_ThrowsAndWritesNothing(int width, int height)
    {
        using var temp = new TempFolder();
        string path = temp.File("bad.png");

        var error = Assert.Throws<ArgumentException>(() => Recorded(3).Plot(path, ["loss"], width, height));

        Assert.Contains($"Received: width={width}, height={height}", error.Message);
        Assert.False(File.Exists(path));
    }
}
