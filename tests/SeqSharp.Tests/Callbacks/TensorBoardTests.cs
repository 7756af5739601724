using SeqSharp.Callbacks;
using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using static SeqSharp.Tests.Callbacks.CallbackHarness;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Callbacks;

public class TensorBoardTests
{
    /// <summary>Every summary value in the event files of a folder, read through TFRecord framing: (tag, step, value, is histogram, wall time).</summary>
    private static List<(string Tag, long Step, float Value, bool Histogram, double WallTime)> Events(string folder)
    {
        var files = Directory.GetFiles(folder, "events.out.tfevents.*");
        Assert.NotEmpty(files);
        var result = new List<(string, long, float, bool, double)>();
        foreach (var file in files)
        {
            using var reader = new BinaryReader(File.OpenRead(file));
            while (reader.BaseStream.Position < reader.BaseStream.Length)
            {
                ulong length = reader.ReadUInt64();
                reader.ReadUInt32();   // masked CRC of the length
                var data = reader.ReadBytes(checked((int)length));
                Assert.Equal((int)length, data.Length);
                reader.ReadUInt32();   // masked CRC of the data
                var ev = Tensorboard.Event.Parser.ParseFrom(data);
                if (ev.Summary is null)
                    continue;
                foreach (var value in ev.Summary.Value)
                    result.Add((value.Tag, ev.Step, value.SimpleValue, value.Histo is not null, ev.WallTime));
            }
        }
        return result;
    }

    [Fact]
    public void Fit_WithValidation_WritesEpochScalarsToTrainAndValidationFolders()
    {
        using var folder = new TempFolder();
        var model = TinyDense(1, learningRate: 0.05, metrics: ["mae"]);
        var (x, y) = Line(2, 12);
        var history = model.Fit(x, y, batchSize: 3, epochs: 3, verbose: 0, validationSplit: 0.25,
            callbacks: [new TensorBoard(folder.Path)]);

        var train = Events(Path.Combine(folder.Path, "train"));
        var validation = Events(Path.Combine(folder.Path, "validation"));
        Assert.Equal(["epoch_learning_rate", "epoch_loss", "epoch_mae"], train.Select(e => e.Tag).Distinct().Order(StringComparer.Ordinal));
        for (int epoch = 0; epoch < 3; epoch++)
        {
            Assert.Equal((float)history["loss"][epoch], train.Single(e => e.Tag == "epoch_loss" && e.Step == epoch).Value);
            Assert.Equal((float)history["mae"][epoch], train.Single(e => e.Tag == "epoch_mae" && e.Step == epoch).Value);
            Assert.Equal(0.05f, train.Single(e => e.Tag == "epoch_learning_rate" && e.Step == epoch).Value);
            Assert.Equal((float)history["val_loss"][epoch], validation.Single(e => e.Tag == "epoch_loss" && e.Step == epoch).Value);
            Assert.Equal((float)history["val_mae"][epoch], validation.Single(e => e.Tag == "epoch_mae" && e.Step == epoch).Value);
            // Each validation pass is also logged against the optimizer's step count (3 steps per epoch).
            Assert.Equal((float)history["val_loss"][epoch], validation.Single(e => e.Tag == "evaluation_loss_vs_iterations" && e.Step == 3 * (epoch + 1)).Value);
        }
        Assert.DoesNotContain(train, e => e.Histogram);
        double now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.All(train, e => Assert.InRange(e.WallTime, now - 3600, now + 60));
    }

    [Fact]
    public void Fit_WithoutValidation_WritesNoValidationFolder()
    {
        using var folder = new TempFolder();
        var model = TinyDense(3);
        var (x, y) = Line(4, 8);
        model.Fit(x, y, epochs: 2, verbose: 0, callbacks: [new TensorBoard(folder.Path)]);
        Assert.Contains(Events(Path.Combine(folder.Path, "train")), e => e.Tag == "epoch_loss" && e.Step == 1);
        Assert.False(Directory.Exists(Path.Combine(folder.Path, "validation")));
    }

    [Fact]
    public void Fit_AfterReduceLROnPlateau_WritesTheRateOncePerEpoch()
    {
        using var folder = new TempFolder();
        var model = TinyDense(8, learningRate: 0.3);
        var (x, y) = Line(9, 4);
        model.Fit(x, y, epochs: 2, verbose: 0, callbacks: [new ReduceLROnPlateau(monitor: "loss"), new TensorBoard(folder.Path)]);
        var rates = Events(Path.Combine(folder.Path, "train")).Where(e => e.Tag == "epoch_learning_rate").ToList();
        Assert.Equal([0L, 1L], rates.Select(e => e.Step));
        Assert.All(rates, e => Assert.Equal(0.3f, e.Value));
    }

    [Fact]
    public void Fit_HistogramFreq_WritesEachWeightEveryNEpochs()
    {
        using var folder = new TempFolder();
        manual_seed(5);
        var model = new Sequential();
        model.Add(new LSTM(3, inputShape: [4, 2], name: "rnn"));
        model.Add(new Dense(1, name: "head"));
        model.Compile(optimizer: "adam", loss: "mse");
        model.Fit(randn(8, 4, 2), randn(8, 1), epochs: 5, verbose: 0, callbacks: [new TensorBoard(folder.Path, histogramFreq: 2)]);

        var histograms = Events(Path.Combine(folder.Path, "train")).Where(e => e.Histogram).ToList();
        string[] tags = ["head/bias/histogram", "head/kernel/histogram", "rnn/bias/histogram", "rnn/kernel/histogram", "rnn/recurrent_kernel/histogram"];
        Assert.Equal(tags, histograms.Select(e => e.Tag).Distinct().Order(StringComparer.Ordinal));
        foreach (var tag in tags)
            Assert.Equal([0L, 2L, 4L], histograms.Where(e => e.Tag == tag).Select(e => e.Step).Order());
    }

    [Fact]
    public void Fit_EventFiles_ContainTheTagStrings()
    {
        // The plain check the events format allows without a protobuf reader: the tags are in the bytes.
        using var folder = new TempFolder();
        var model = TinyDense(6);
        var (x, y) = Line(7, 8);
        model.Fit(x, y, epochs: 1, verbose: 0, validationSplit: 0.5, callbacks: [new TensorBoard(folder.Path)]);
        string Bytes(string sub) => string.Concat(Directory.GetFiles(Path.Combine(folder.Path, sub)).Select(f => System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(f))));
        Assert.Contains("epoch_loss", Bytes("train"));
        Assert.Contains("epoch_learning_rate", Bytes("train"));
        Assert.Contains("epoch_loss", Bytes("validation"));
        Assert.Contains("brain.Event:2", Bytes("train"));
    }

    [Fact]
    public void Constructor_BadArguments_Throw()
    {
        Assert.Contains("histogramFreq=-1", Assert.Throws<ArgumentOutOfRangeException>(() => new TensorBoard(histogramFreq: -1)).Message);
        Assert.Throws<ArgumentException>(() => new TensorBoard(" "));
    }
}
