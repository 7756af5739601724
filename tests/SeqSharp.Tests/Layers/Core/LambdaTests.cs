using System.IO.Compression;
using SeqSharp.Layers;
using SeqSharp.Tests.Saving;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Core;

/// <summary>
/// <see cref="Lambda"/> (Keras <c>layers.Lambda</c>): the function is the computation; saved by the
/// function's name and loaded when the name is supplied; Python bytecode in a Keras file is refused.
/// </summary>
public class LambdaTests
{
    private static readonly Func<Tensor, Tensor> Times400 = x => x * 400;

    private static Sequential Model(string? functionName = "times400")
    {
        manual_seed(21);
        return new Sequential([new Dense(2, inputShape: [3]), new Lambda(Times400, functionName: functionName), new Dense(1)]);
    }

    private static Dictionary<string, object> Supplied => new() { ["times400"] = Times400 };

    [Fact]
    public void Call_AppliesTheFunctionAndIsDifferentiable()
    {
        var layer = new Lambda(x => x.square() * 400);
        var x = tensor(new double[] { 1, -2, 3 }, [1, 3], requires_grad: true);
        var y = layer.Call(x);
        Assert.Equal(new double[] { 400, 1600, 3600 }, y.to_type(ScalarType.Float64).data<double>().ToArray());
        y.sum().backward();
        // d(400 x²)/dx = 800 x; the input was cast to float32, the gradient comes back as float64.
        Assert.Equal(new double[] { 800, -1600, 2400 }, x.grad!.data<double>().ToArray());
        Assert.Empty(layer.Weights);
    }

    [Fact]
    public void ComputeOutputShape_InferredFromTheFunctionOrGiven()
    {
        var sum = new Lambda(x => x.sum([-1L], keepdim: true), inputShape: [5, 3]);
        var model = new Sequential([sum, new Dense(2)]);
        Assert.Equal(new long[] { 5, 1 }, sum.OutputShape);
        Assert.Equal(new long[] { 5, 2 }, model.OutputShape);
        Assert.Equal(new long[] { 4 }, new Lambda(x => x.narrow(1, 0, 4), outputShape: [4]).ComputeOutputShape([6]));
    }

    [Fact]
    public void Call_FunctionDroppingTheBatchAxis_ClearError()
    {
        var layer = new Lambda(x => x.sum(), name: "total");
        var e = Assert.Throws<InvalidOperationException>(() => layer.Call(ones(2, 3)));
        Assert.Contains("Lambda layer 'total' must keep the batch axis first", e.Message);
    }

    [Fact]
    public void Save_UnnamedFunction_NotSupportedSayingHowToNameIt_NothingWritten()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        var e = Assert.Throws<NotSupportedException>(() => Model(functionName: null).Save(path));
        Assert.Contains("Lambda layer 'lambda", e.Message);
        Assert.Contains("functionName:", e.Message);
        Assert.Contains("customObjects", e.Message);
        Assert.False(File.Exists(path));
        // Inside a wrapper too.
        var wrapped = new Sequential([new TimeDistributed(new Lambda(Times400), inputShape: [4, 2])]);
        Assert.Contains("unnamed C# function", Assert.Throws<NotSupportedException>(() => wrapped.Save(path)).Message);
    }

    [Fact]
    public void SaveLoad_NamedFunction_RefusedWithoutIt_SamePredictionsWithIt()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        var model = Model();
        model.Save(path);

        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains("'times400'", e.Message);
        Assert.Contains("customObjects", e.Message);
        Assert.Contains("Lambda layer 'lambda", e.Message);

        using var loaded = Sequential.Load(path, customObjects: Supplied);
        var lambda = Assert.IsType<Lambda>(loaded.Layers[1]);
        Assert.Equal("times400", lambda.FunctionName);
        var x = randn(4, 3);
        TensorAssert.Close(model.Predict(x, verbose: 0), loaded.Predict(x, verbose: 0), atol: 0, what: "predictions");
        // By hand: the first Dense's output times 400 is what the second Dense sees.
        var hidden = loaded.Layers[0].Call(x) * 400;
        TensorAssert.Close(loaded.Layers[2].Call(hidden), loaded.Predict(x, verbose: 0), atol: 1e-4, what: "by hand");

        // Saved again from the loaded model: the same name.
        var again = folder.File("again.keras");
        loaded.Save(again);
        using var reloaded = Sequential.Load(again, customObjects: Supplied);
        Assert.Equal("times400", ((Lambda)reloaded.Layers[1]).FunctionName);
    }

    [Fact]
    public void Load_WrongKindOfCustomObject_SaysALambdaNeedsAFuncOfOneTensor()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        Model().Save(path);
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path,
            customObjects: new Dictionary<string, object> { ["times400"] = (Func<Tensor, Tensor, Tensor>)((a, b) => a) }));
        Assert.Contains("a Lambda needs a Func<Tensor, Tensor>", e.Message);
    }

    /// <summary>Keras 3's config of <c>Lambda(lambda x: x * 400)</c>: the bytecode of the Python lambda (base64 of marshal output).</summary>
    private const string Keras3BytecodeFunction =
        """{"class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwApAk7pkAEAAKkAKQHaAXhyAgAAAHICAAAA+gg8c3RkaW4+2gg8bGFtYmRhPgEAAADzAAAAAA==", "defaults": null, "closure": null}}""";

    [Fact]
    public void Load_Keras3LambdaWithBytecode_RefusedNamingTheLayerAndHowToSupplyTheFunction()
    {
        using var folder = new TempFolder();
        var source = folder.File("m.keras");
        Model().Save(source);
        var path = folder.File("bytecode.keras");
        File.Copy(source, path);
        using (var archive = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            var entry = archive.GetEntry("config.json")!;
            string text;
            using (var reader = new StreamReader(entry.Open()))
                text = reader.ReadToEnd();
            entry.Delete();
            string serialized = """{"module":"builtins","class_name":"function","config":"times400","registered_name":"function"}""";
            Assert.Contains(serialized, text);
            using var writer = new StreamWriter(archive.CreateEntry("config.json").Open());
            writer.Write(text.Replace(serialized, Keras3BytecodeFunction));
        }

        // Even with a function of that name supplied: the file names no function, it holds code.
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path, customObjects: Supplied));
        Assert.Contains("layer 'lambda", e.Message);
        Assert.Contains("Python bytecode", e.Message);
        Assert.Contains("never runs", e.Message);
        Assert.Contains("customObjects", e.Message);
    }

    [Theory]
    // tf.keras 2.x: Lambda(lambda x: x * 400) is a (code, defaults, closure) triple with function_type "lambda".
    [InlineData("""["4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwApAk7pkAEAAKkAKQHaAXhyAgAAAHICAAAA+gg8c3RkaW4+2gg8bGFtYmRhPgEAAADzAAAAAA==\n", null, null]""", "lambda", false)]
    // tf.keras 2.x: Lambda(times400), a named function.
    [InlineData("\"times400\"", "function", true)]
    public void Load_LegacyH5Lambda_BytecodeRefused_NamedFunctionLoads(string function, string functionType, bool loads)
    {
        using var folder = new TempFolder();
        var path = folder.File("m.h5");
        // The legacy model's Dropout (no weights) becomes a Lambda of the same name.
        string lambda = "{\"class_name\": \"Lambda\", \"config\": {\"name\": \"dropout\", \"trainable\": true, \"dtype\": \"float32\", \"function\": " + function +
            ", \"function_type\": \"" + functionType + "\", \"module\": \"__main__\", \"output_shape\": null, \"output_shape_type\": \"raw\", \"output_shape_module\": null, \"arguments\": {}}}";
        string dropout = """{"class_name": "Dropout", "config": {"name": "dropout", "trainable": true, "dtype": "float32", "rate": 0.1, "noise_shape": null, "seed": null}}""";
        Assert.Contains(dropout, LegacyH5Tests.ModelConfig);
        LegacyH5Tests.WriteLegacyFile(path, LegacyH5Tests.ModelConfig.Replace(dropout, lambda));

        if (!loads)
        {
            var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path, customObjects: Supplied));
            Assert.Contains("Lambda layer 'dropout'", e.Message);
            Assert.Contains("Python bytecode", e.Message);
            return;
        }
        using var model = Sequential.Load(path, customObjects: Supplied);
        var layer = Assert.IsType<Lambda>(model.Layers[1]);
        Assert.Equal("times400", layer.FunctionName);
        var x = randn(2, 5, 3);
        var lstm = model.Layers[0].Call(x);
        TensorAssert.Close(model.Layers[3].Call(model.Layers[2].Call(lstm * 400)), model.Predict(x, verbose: 0), atol: 1e-5, what: "by hand");
    }

    [Fact]
    public void FromConfig_ArgumentsOrMask_NotSupported()
    {
        var config = new Dictionary<string, object?>
        {
            ["name"] = "l",
            ["function"] = Lambda.SerializedFunction("times400"),
            ["arguments"] = new Dictionary<string, object?> { ["factor"] = 2 },
        };
        CustomObjects.Register("times400", Times400);
        try
        {
            Assert.Contains("passes arguments", Assert.Throws<NotSupportedException>(() => Layer.FromConfig("Lambda", config)).Message);
            config["arguments"] = new Dictionary<string, object?>();
            config["mask"] = new List<object?> { true };
            Assert.Contains("sets a mask", Assert.Throws<NotSupportedException>(() => Layer.FromConfig("Lambda", config)).Message);
            config.Remove("mask");
            Assert.Equal("times400", Assert.IsType<Lambda>(Layer.FromConfig("Lambda", config)).FunctionName);
        }
        finally
        {
            CustomObjects.Unregister("times400");
        }
    }
}
