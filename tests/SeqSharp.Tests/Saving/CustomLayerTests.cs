using System.IO.Compression;
using System.Text.Json;
using SeqSharp.Initializers;
using SeqSharp.Layers;
using SeqSharp.Losses;
using SeqSharp.Tests.TestSupport;
using TorchSharp.Modules;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Saving;

// docs/formats.md "User-defined layers" shows this class as is (CustomLayerTests checks the text).
// docs:begin Scale
/// <summary>Multiplies each feature by a learned factor (one weight per feature), starting at <c>initial</c>.</summary>
public sealed class Scale : Layer
{
    private Parameter? _factors;

    public Scale(double initial = 1.0, long?[]? inputShape = null, string? name = null)
        : base(name, inputShape, dtype: null)
    {
        Initial = initial;
    }

    // The config constructor: the loader passes the config that GetConfig wrote.
    public Scale(IReadOnlyDictionary<string, object?> config) : base(config)
    {
        Initial = Convert.ToDouble(config["initial"]);
    }

    public double Initial { get; }

    public override InputSpec InputSpec => new(MinRank: 2);

    protected override void BuildCore(long[] sampleShape) =>
        _factors = AddWeight("factors", [sampleShape[^1]], new Constant(Initial));

    public override long[] ComputeOutputShape(long[] sampleShape) => sampleShape;

    public override Tensor forward(Tensor x) => x * _factors!;

    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();   // name, trainable, dtype (and the input shape of a first layer)
        config["initial"] = Initial;
        return config;
    }
}
// docs:end Scale

/// <summary>A user-defined layer without a config constructor: trains, but cannot be saved.</summary>
public sealed class NoConfigLayer() : Layer(null, null, null)
{
    public override InputSpec InputSpec => new(MinRank: 2);

    protected override void BuildCore(long[] sampleShape)
    {
    }

    public override long[] ComputeOutputShape(long[] sampleShape) => sampleShape;

    public override Tensor forward(Tensor x) => x + 1;
}

/// <summary>
/// Item 6 of issue 11: a registered <see cref="Layer"/> subclass with <c>GetConfig</c> and a config
/// constructor saves and loads, alone and inside a wrapper, written as Keras writes a custom class.
/// </summary>
[Collection(GlobalStateCollection.Name)]
public class CustomLayerTests
{
    private static Sequential Model()
    {
        manual_seed(11);
        var model = new Sequential();
        model.Add(new LSTM(4, inputShape: [5, 3], returnSequences: true));
        model.Add(new Scale(initial: 2.0, name: "scale"));
        model.Add(new Dense(1));
        using (no_grad())
            ((Scale)model.Layers[1]).Weights[0].copy_(tensor(new float[] { 0.5f, -1f, 2f, 3f }));
        return model;
    }

    [Fact]
    public void Scale_Forward_MultipliesEachFeatureByItsFactor()
    {
        var layer = new Scale(initial: 3.0);
        var x = tensor(new float[] { 1, 2, 3, 4 }, [1, 2, 2]);
        var y = layer.Call(x);
        Assert.Equal(new float[] { 3, 6, 9, 12 }, y.data<float>().ToArray());
        Assert.Single(layer.Weights);
    }

    [Fact]
    public void SaveLoad_RegisteredLayer_SameLayersWeightsAndPredictions()
    {
        using var folder = new TempFolder();
        var path = folder.File("scaled.keras");
        // docs:begin usage
        CustomObjects.Register("Scale", typeof(Scale));
        var model = Model();   // LSTM, Scale, Dense
        model.Save(path);
        var again = Sequential.Load(path);   // Scale found by its registered name
        // docs:end usage
        try
        {
            Assert.IsType<Scale>(again.Layers[1]);
            Assert.Equal("scale", again.Layers[1].Name);
            Assert.Equal(2.0, ((Scale)again.Layers[1]).Initial);
            Assert.Equal(new float[] { 0.5f, -1f, 2f, 3f }, again.Layers[1].Weights[0].data<float>().ToArray());
            manual_seed(12);
            var x = randn(3, 5, 3);
            TensorAssert.Close(model.Predict(x, verbose: 0), again.Predict(x, verbose: 0), atol: 0, what: "predictions");

            // Written as Keras writes a registered custom class: its class name and registered_name.
            using var archive = ZipFile.OpenRead(path);
            using var stream = archive.GetEntry("config.json")!.Open();
            var entry = JsonDocument.Parse(stream).RootElement.GetProperty("config").GetProperty("layers")[2];
            Assert.Equal("Scale", entry.GetProperty("class_name").GetString());
            Assert.Equal("Scale", entry.GetProperty("registered_name").GetString());
            Assert.Equal(2.0, entry.GetProperty("config").GetProperty("initial").GetDouble());
        }
        finally
        {
            CustomObjects.Unregister("Scale");
            again.Dispose();
        }
    }

    [Fact]
    public void Load_UnregisteredLayer_InvalidDataSayingHowToSupplyIt_ThenLoadsWithCustomObjects()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        var model = Model();
        model.Save(path);

        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains("layer 'scale' of type Scale is not supported", e.Message);
        Assert.Contains("customObjects", e.Message);
        Assert.Contains("typeof(YourLayer)", e.Message);

        using var loaded = Sequential.Load(path, customObjects: new Dictionary<string, object> { ["Scale"] = typeof(Scale) });
        var x = randn(2, 5, 3);
        TensorAssert.Close(model.Predict(x, verbose: 0), loaded.Predict(x, verbose: 0), atol: 0, what: "predictions");
        var e2 = Assert.Throws<InvalidDataException>(() => Sequential.Load(path, customObjects: new Dictionary<string, object> { ["Scale"] = Loss.Get("mse") }));
        Assert.Contains("needs the Type of a Layer subclass", e2.Message);
    }

    [Fact]
    public void SaveLoad_RegisteredUnderPackageName_WrittenAndFoundUnderThatName()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        CustomObjects.Register("my_package>Scale", typeof(Scale));
        try
        {
            var model = new Sequential([new TimeDistributed(new Scale(0.5), inputShape: [4, 2]), new Scale(1.5)]);
            model.Save(path);
            string json;
            using (var archive = ZipFile.OpenRead(path))
            using (var reader = new StreamReader(archive.GetEntry("config.json")!.Open()))
                json = reader.ReadToEnd();
            // Both the wrapped and the top-level layer carry the registered name (JSON may escape '>').
            var layers = JsonDocument.Parse(json).RootElement.GetProperty("config").GetProperty("layers");
            Assert.Equal("my_package>Scale", layers[1].GetProperty("config").GetProperty("layer").GetProperty("registered_name").GetString());
            Assert.Equal("my_package>Scale", layers[2].GetProperty("registered_name").GetString());
            using var loaded = Sequential.Load(path);
            var wrapped = Assert.IsType<TimeDistributed>(loaded.Layers[0]);
            Assert.Equal(0.5, Assert.IsType<Scale>(wrapped.Layer).Initial);
            var x = randn(2, 4, 2);
            // 0.5 then 1.5 per feature, by hand.
            TensorAssert.Close(x * 0.75, loaded.Predict(x, verbose: 0), atol: 1e-6, what: "predictions");
        }
        finally
        {
            CustomObjects.Unregister("my_package>Scale");
        }
    }

    [Fact]
    public void Save_LayerWithoutConfigConstructor_NotSupportedSayingWhatToAdd()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        var model = new Sequential([new Dense(2, inputShape: [3]), new NoConfigLayer()]);
        var e = Assert.Throws<NotSupportedException>(() => model.Save(path));
        Assert.Contains(nameof(NoConfigLayer), e.Message);
        Assert.Contains("IReadOnlyDictionary<string, object?> config", e.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void DocsFormats_ShowsTheTestedExampleVerbatim()
    {
        string root = RepositoryRoot();
        string source = File.ReadAllText(Path.Combine(root, "tests", "SeqSharp.Tests", "Saving", "CustomLayerTests.cs"));
        string docs = File.ReadAllText(Path.Combine(root, "docs", "formats.md"));
        foreach (var region in new[] { "Scale", "usage" })
        {
            string code = Lines(Between(source, $"// docs:begin {region}\n", $"// docs:end {region}"));
            Assert.True(Lines(docs).Contains(code), $"docs/formats.md does not show the '{region}' code of CustomLayerTests.cs as is:\n{code}");
        }
    }

    private static string Between(string text, string start, string end)
    {
        int from = text.IndexOf(start, StringComparison.Ordinal) + start.Length;
        return text[from..text.IndexOf(end, from, StringComparison.Ordinal)];
    }

    /// <summary>The lines, trimmed (indentation differs between a test method and the docs).</summary>
    private static string Lines(string text) => string.Join("\n", text.Replace("\r", "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Sequential.sln")))
                return folder.FullName;
        }
        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds Sequential.sln.");
    }
}
