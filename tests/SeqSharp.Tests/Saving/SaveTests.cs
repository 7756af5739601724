using System.IO.Compression;
using System.Text.Json;
using PureHDF;
using SeqSharp.Layers;
using SeqSharp.Metrics;
using SeqSharp.Optimizers;
using SeqSharp.Optimizers.Schedules;
using SeqSharp.Tests.TestSupport;
using Dropout = SeqSharp.Layers.Dropout;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Saving;

/// <summary><see cref="Sequential.Save"/>: the archive's layout, read back independently of the loader.</summary>
public class SaveTests
{
    private static JsonElement Config(string path)
    {
        using var archive = ZipFile.OpenRead(path);
        using var reader = new StreamReader(archive.GetEntry("config.json")!.Open());
        return JsonDocument.Parse(reader.ReadToEnd()).RootElement.Clone();
    }

    [Fact]
    public void Save_CompiledModel_WritesKerasArchiveLayout()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        var model = SaveWeightsTests.Mixed(1, name: "mixed");
        model.Compile(optimizer: new Adam(learningRate: 0.01), loss: "mse", metrics: ["mae"]);
        model.Save(path);

        using (var archive = ZipFile.OpenRead(path))
        {
            Assert.Equal(["metadata.json", "config.json", "model.weights.h5"], archive.Entries.Select(e => e.FullName));
            Assert.All(archive.Entries, e => Assert.Equal(e.Length, e.CompressedLength));   // stored, as Keras stores them
            using var metadata = JsonDocument.Parse(new StreamReader(archive.GetEntry("metadata.json")!.Open()).ReadToEnd());
            Assert.StartsWith("3.", metadata.RootElement.GetProperty("keras_version").GetString());
            Assert.Matches(@"^\d{4}-\d{2}-\d{2}@\d{2}:\d{2}:\d{2}$", metadata.RootElement.GetProperty("date_saved").GetString());
        }
        var root = Config(path);
        Assert.Equal("keras", root.GetProperty("module").GetString());
        Assert.Equal("Sequential", root.GetProperty("class_name").GetString());
        var layers = root.GetProperty("config").GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(["InputLayer", "LSTM", "SimpleRNN", "LSTM", "Dense", "Dense"], layers.Select(l => l.GetProperty("class_name").GetString()));
        Assert.All(layers, l => Assert.Equal("keras.layers", l.GetProperty("module").GetString()));
        Assert.Equal("[null,5,3]", layers[0].GetProperty("config").GetProperty("batch_shape").GetRawText());
        var lstm = layers[1].GetProperty("config");
        Assert.Equal("encoder", lstm.GetProperty("name").GetString());
        Assert.True(lstm.GetProperty("use_peepholes").GetBoolean());
        Assert.False(layers[3].GetProperty("config").TryGetProperty("use_peepholes", out _), "the Keras-compatible LSTM must not carry SeqSharp's key");
        Assert.Equal("DTypePolicy", lstm.GetProperty("dtype").GetProperty("class_name").GetString());
        Assert.Equal("keras.initializers", lstm.GetProperty("kernel_initializer").GetProperty("module").GetString());
        Assert.Equal("[null,5,3]", layers[1].GetProperty("build_config").GetProperty("input_shape").GetRawText());
        var compile = root.GetProperty("compile_config");
        Assert.Equal("Adam", compile.GetProperty("optimizer").GetProperty("class_name").GetString());
        Assert.Equal(0.01, compile.GetProperty("optimizer").GetProperty("config").GetProperty("learning_rate").GetDouble());
        Assert.Equal("MeanSquaredError", compile.GetProperty("loss").GetProperty("class_name").GetString());
        Assert.Equal("mae", compile.GetProperty("metrics")[0].GetProperty("config").GetProperty("name").GetString());
    }
}
