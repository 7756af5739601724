using System.IO.Compression;
using PureHDF;
using SeqSharp.Layers;
using SeqSharp.Saving;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Saving;

/// <summary>Damaged, empty and foreign files: an <see cref="InvalidDataException"/> saying what is wrong, never a crash or a half-loaded model.</summary>
public class LoadFaultTests
{
    private static string Saved(TempFolder folder, string name = "good.keras")
    {
        var path = folder.File(name);
        var model = SaveWeightsTests.Mixed(30);
        model.Compile(optimizer: "adam", loss: "mse");
        model.Save(path);
        return path;
    }

    /// <summary>A copy of the archive with one entry's text replaced (or the entry removed when <paramref name="edit"/> returns null).</summary>
    private static string Edited(TempFolder folder, string source, string entry, Func<string, string?> edit)
    {
        var path = folder.File("edited.keras");
        File.Copy(source, path, overwrite: true);
        using var archive = ZipFile.Open(path, ZipArchiveMode.Update);
        var old = archive.GetEntry(entry)!;
        string text;
        using (var reader = new StreamReader(old.Open()))
            text = reader.ReadToEnd();
        old.Delete();
        if (edit(text) is { } replaced)
        {
            using var writer = new StreamWriter(archive.CreateEntry(entry).Open());
            writer.Write(replaced);
        }
        return path;
    }

    private static InvalidDataException LoadFails(string path) => Assert.Throws<InvalidDataException>(() => Sequential.Load(path));

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.999)]
    public void Load_TruncatedArchive_InvalidData(double kept)
    {
        using var folder = new TempFolder();
        var bytes = File.ReadAllBytes(Saved(folder));
        var path = folder.File("truncated.keras");
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * kept)]);

        var e = LoadFails(path);
        Assert.Contains("truncated.keras", e.Message);
    }

    [Fact]
    public void Load_RandomBytesAndEmptyFile_InvalidDataSayingWhatWasExpected()
    {
        using var folder = new TempFolder();
        var random = folder.File("random.keras");
        File.WriteAllBytes(random, Enumerable.Range(0, 5000).Select(i => (byte)(i * 7919 % 251)).ToArray());
        var empty = folder.File("empty.keras");
        File.WriteAllBytes(empty, []);
        var emptyH5 = folder.File("empty.h5");
        File.WriteAllBytes(emptyH5, []);

        Assert.Contains("expected a .keras zip archive", LoadFails(random).Message);
        Assert.Contains("expected a .keras zip archive", LoadFails(empty).Message);
        Assert.Contains("is empty", LoadFails(emptyH5).Message);
    }

    [Fact]
    public void Load_ZipWithoutConfig_NamesTheMissingEntry()
    {
        using var folder = new TempFolder();
        var path = Edited(folder, Saved(folder), "config.json", _ => null);

        var e = LoadFails(path);
        Assert.Contains("holds no config.json", e.Message);
        Assert.Contains("model.weights.h5", e.Message);
    }

    [Fact]
    public void Load_ConfigNotJsonOrNotSequential_InvalidData()
    {
        using var folder = new TempFolder();
        var good = Saved(folder);
        Assert.Contains("not valid JSON", LoadFails(Edited(folder, good, "config.json", t => t[..(t.Length / 2)])).Message);
        // A Sequential config relabelled Functional lacks the graph a functional model needs.
        Assert.Contains("functional model config has no 'input_layers'",
            LoadFails(Edited(folder, good, "config.json", t => t.Replace("\"class_name\":\"Sequential\"", "\"class_name\":\"Functional\""))).Message);
    }

    [Fact]
    public void Load_UnknownLayer_NamesTheLayerAndItsType()
    {
        using var folder = new TempFolder();
        var path = Edited(folder, Saved(folder), "config.json", t => t.Replace("\"class_name\":\"SimpleRNN\"", "\"class_name\":\"Conv2D\""));

        var e = LoadFails(path);
        Assert.Contains("layer 'middle' of type Conv2D is not supported", e.Message);
        Assert.Contains("LSTM", e.Message);   // and lists what is supported
    }

    [Fact]
    public void Load_UnsupportedOption_NamesTheLayerAndTheOption()
    {
        using var folder = new TempFolder();
        var path = Edited(folder, Saved(folder), "config.json", t => t.Replace("\"unroll\":false", "\"unroll\":true"));

        var e = LoadFails(path);
        Assert.Contains("layer 'encoder': LSTM option 'unroll=true' is not supported", e.Message);
    }

    [Fact]
    public void Load_InvalidLayerValue_SaysWhatWasReceived()
    {
        using var folder = new TempFolder();
        var path = Edited(folder, Saved(folder), "config.json", t => t.Replace("\"units\":6", "\"units\":\"six\""));

        var e = LoadFails(path);
        Assert.Contains("layer 'encoder' of type LSTM cannot be rebuilt", e.Message);
        Assert.Contains("\"six\"", e.Message);
    }

    [Fact]
    public void Load_WeightsOfTheWrongShape_NamesTheVariableAndBothShapes()
    {
        using var folder = new TempFolder();
        // A model whose config says Dense(5) where the weights were saved for Dense(2).
        var path = Edited(folder, Saved(folder), "config.json", t => t.Replace("\"units\":2", "\"units\":7"));

        var e = LoadFails(path);
        Assert.Contains("layers/dense_1/vars/0", e.Message);
        Assert.Contains("[5, 2]", e.Message);
        Assert.Contains("[5, 7]", e.Message);
    }

    [Fact]
    public void Load_WeightsFileOrHdf5WithoutModelConfig_SaysToUseLoadWeights()
    {
        using var folder = new TempFolder();
        var weights = folder.File("m.weights.h5");
        SaveWeightsTests.Mixed(31).SaveWeights(weights);
        var renamed = folder.File("m.h5");
        File.Copy(weights, renamed);

        Assert.Contains("LoadWeights", LoadFails(weights).Message);
        Assert.Contains("no 'model_config' attribute", LoadFails(renamed).Message);
    }

    [Fact]
    public void Load_UnknownExtensionOrMissingFile_ArgumentAndFileNotFound()
    {
        using var folder = new TempFolder();
        Assert.Throws<ArgumentException>(() => Sequential.Load(folder.File("m.onnx")));
        Assert.Throws<FileNotFoundException>(() => Sequential.Load(folder.File("none.keras")));
    }

    [Fact]
    public void Save_InterruptedAfterTheTemporaryFile_LeavesTheOldModelIntact()
    {
        using var folder = new TempFolder();
        var path = Saved(folder, "m.keras");
        var before = File.ReadAllBytes(path);
        var other = SaveWeightsTests.Mixed(32);
        string? temporary = null;
        AtomicFile.BeforeReplace = t =>
        {
            temporary = t;
            Assert.True(new FileInfo(t).Length > 0);
            throw new IOException("simulated crash between writing and renaming");
        };
        try
        {
            Assert.Throws<IOException>(() => other.Save(path));
        }
        finally
        {
            AtomicFile.BeforeReplace = null;
        }

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(Path.GetDirectoryName(path), Path.GetDirectoryName(temporary));
        Assert.Equal([path], Directory.GetFiles(folder.Path));
        var loaded = Sequential.Load(path);
        TensorAssert.Close(SaveWeightsTests.Mixed(30).GetWeights()[0], loaded.GetWeights()[0], atol: 0, what: "the old model's first weight");
    }

    [Fact]
    public void Save_WrongExtensionUnbuiltOrDelegateMetric_RefusedBeforeWriting()
    {
        using var folder = new TempFolder();
        var model = SaveWeightsTests.Mixed(33);
        Assert.Throws<ArgumentException>(() => model.Save(folder.File("m.weights.h5")));
        Assert.Throws<InvalidOperationException>(() => new Sequential([new Dense(2)]).Save(folder.File("u.keras")));
        model.Compile(optimizer: "sgd", loss: "mse", metrics: [new SeqSharp.Metrics.MeanMetricWrapper((t, p) => (t - p).abs(), name: "custom")]);
        var e = Assert.Throws<NotSupportedException>(() => model.Save(folder.File("m.keras")));
        Assert.Contains("'custom'", e.Message);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }
}
