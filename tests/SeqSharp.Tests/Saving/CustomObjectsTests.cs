using System.IO.Compression;
using System.Text.Json;
using SeqSharp.Layers;
using SeqSharp.Losses;
using SeqSharp.Metrics;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Saving;

/// <summary>
/// Keras's <c>custom_objects</c>: <see cref="Loss.FromFunction"/>, <see cref="Metric.FromFunction"/>,
/// <c>Sequential.Load(..., customObjects:)</c> and <see cref="CustomObjects.Register"/>, with the files
/// written as Keras writes a model compiled with a Python function.
/// </summary>
public class CustomObjectsTests
{
    /// <summary>The loss of the Keras model: root mean squared error per sample.</summary>
    private static Tensor Rmse(Tensor yTrue, Tensor yPred) => (yPred - yTrue).square().mean([-1L]).sqrt();

    /// <summary>The same in float64 by hand, over the whole set: mean over samples of sqrt(mean over features).</summary>
    private static double RmseByHand(Tensor yTrue, Tensor yPred)
    {
        var t = yTrue.to_type(ScalarType.Float64).data<double>().ToArray();
        var p = yPred.to_type(ScalarType.Float64).data<double>().ToArray();
        int features = (int)yPred.shape[^1], samples = p.Length / features;
        double total = 0;
        for (int s = 0; s < samples; s++)
        {
            double sum = 0;
            for (int f = 0; f < features; f++)
                sum += Math.Pow(p[s * features + f] - t[s * features + f], 2);
            total += Math.Sqrt(sum / features);
        }
        return total / samples;
    }

    private static Sequential Model(int seed)
    {
        manual_seed(seed);
        var model = new Sequential([new Dense(4, activation: "tanh", inputShape: [3]), new Dense(2)]);
        return model;
    }

    private static (Tensor X, Tensor Y) Data()
    {
        manual_seed(7);
        return (randn(10, 3), randn(10, 2));
    }

    private static JsonElement CompileConfig(string path)
    {
        using var archive = ZipFile.OpenRead(path);
        using var stream = archive.GetEntry("config.json")!.Open();
        return JsonDocument.Parse(stream).RootElement.GetProperty("compile_config").Clone();
    }

    [Fact]
    public void LossFromFunction_Call_MeansThePerSampleValuesAsKerasReduces()
    {
        var loss = Loss.FromFunction("RMSE", Rmse);
        var yTrue = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        var yPred = tensor(new float[] { 2, 2, 3, 6 }, [2, 2]);
        // Per sample: sqrt((1 + 0) / 2) and sqrt((0 + 4) / 2); sum_over_batch_size: their mean.
        double a = Math.Sqrt(0.5), b = Math.Sqrt(2);
        Assert.Equal((a + b) / 2, loss.Call(yTrue, yPred).item<float>(), 6);
        // Sample weights multiply, then the sum is divided by the number of values.
        Assert.Equal((a + 3 * b) / 2, loss.Call(yTrue, yPred, tensor(new float[] { 1, 3 })).item<float>(), 5);
        Assert.Equal("RMSE", loss.Name);
        // As Keras: y_true (batch,) against y_pred (batch, 1) is squeezed to the same rank first.
        var squeezed = Loss.FromFunction("abs", (t, p) => (p - t).abs());
        Assert.Equal(1.5, squeezed.Call(tensor(new float[] { 1, 2 }), tensor(new float[] { 2, 4 }, [2, 1])).item<float>(), 6);
    }

    [Fact]
    public void LossFromFunction_Backward_ReachesThePredictions()
    {
        var loss = Loss.FromFunction("RMSE", Rmse);
        var yPred = tensor(new double[] { 2, 2, 3, 6 }, [2, 2]).requires_grad_();
        loss.Call(tensor(new double[] { 1, 2, 3, 4 }, [2, 2]), yPred).backward();
        // d/dp of (1/2) * sqrt(mean((p - t)^2)) for one sample = (p - t) / (2 * 2 * rmse_sample).
        var expected = new[] { 1 / (4 * Math.Sqrt(0.5)), 0, 0, 2 / (4 * Math.Sqrt(2)) };
        var grad = yPred.grad!.data<double>().ToArray();
        for (int i = 0; i < 4; i++)
            Assert.Equal(expected[i], grad[i], 12);
    }

    [Fact]
    public void MetricFromFunction_UpdateState_IsTheRunningMeanOfPerSampleValues()
    {
        var metric = Metric.FromFunction("max_error", (t, p) => (t - p).abs().amax([-1L]));
        metric.UpdateState(tensor(new float[] { 0, 0, 0, 0 }, [2, 2]), tensor(new float[] { 1, -3, 2, 0 }, [2, 2]));
        metric.UpdateState(tensor(new float[] { 0, 0 }, [1, 2]), tensor(new float[] { 0.5f, 0 }, [1, 2]));
        Assert.Equal((3 + 2 + 0.5) / 3, metric.Result(), 6);
        Assert.Equal("max_error", metric.Name);
    }

    [Fact]
    public void Save_FunctionLossAndMetric_WrittenAsKerasWritesPythonFunctions()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        var model = Model(1);
        model.Compile(optimizer: "adam", loss: Loss.FromFunction("RMSE", Rmse), metrics: [Metric.FromFunction("max_error", (t, p) => (t - p).abs().amax([-1L])), "mae"]);
        model.Save(path);

        var compile = CompileConfig(path);
        // What Keras 3 writes for loss=RMSE, a plain Python function (serialize_keras_object).
        Assert.Equal("""{"module":"builtins","class_name":"function","config":"RMSE","registered_name":"function"}""", compile.GetProperty("loss").GetRawText());
        Assert.Equal("max_error", compile.GetProperty("metrics")[0].GetProperty("config").GetString());
        Assert.Equal("function", compile.GetProperty("metrics")[0].GetProperty("class_name").GetString());
    }

    [Fact]
    public void Load_CustomLossNotSupplied_InvalidDataNamingItAndBothWaysOut()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        var model = Model(2);
        model.Compile(optimizer: "adam", loss: Loss.FromFunction("RMSE_unsupplied", Rmse));
        model.Save(path);

        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains("'RMSE_unsupplied'", e.Message);
        Assert.Contains("customObjects", e.Message);
        Assert.Contains("compile: false", e.Message);
        Assert.Contains("CustomObjects.Register", e.Message);

        // compile: false skips the file's compile settings, as in Keras: the model loads, uncompiled, with its weights.
        var (x, _) = Data();
        using var loaded = Sequential.Load(path, compile: false);
        Assert.False(loaded.Compiled);
        TensorAssert.Close(model.Predict(x, verbose: 0), loaded.Predict(x, verbose: 0), atol: 0, what: "weights");
    }

    [Fact]
    public void Load_CustomLossAndMetricSupplied_CompiledWithThemAndEvaluatesAsByHand()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        var model = Model(3);
        model.Compile(optimizer: "adam", loss: Loss.FromFunction("RMSE", Rmse), metrics: [Metric.FromFunction("RMSE", Rmse)]);
        model.Save(path);

        var (x, y) = Data();
        // One custom object serves as the loss and as the metric (Keras wraps the function in MeanMetricWrapper).
        using var loaded = Sequential.Load(path, customObjects: new Dictionary<string, object> { ["RMSE"] = (Func<Tensor, Tensor, Tensor>)Rmse });
        Assert.True(loaded.Compiled);
        Assert.Equal("RMSE", loaded.Loss!.Name);
        Assert.Equal("RMSE", loaded.Metrics.Single().Name);
        var scores = loaded.Evaluate(x, y, verbose: 0);
        double expected = RmseByHand(y, loaded.Predict(x, verbose: 0));
        Assert.Equal(expected, scores["loss"], 5);
        Assert.Equal(expected, scores["RMSE"], 5);

        // A Loss object works too, and training continues with it.
        using var again = Sequential.Load(path, customObjects: new Dictionary<string, object> { ["RMSE"] = Loss.FromFunction("RMSE", Rmse) });
        var history = again.Fit(x, y, epochs: 2, verbose: 0);
        Assert.Equal(2, history["loss"].Count);
    }

    [Fact]
    public void Load_RegisteredProcessWide_FoundWithoutCustomObjects()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        var model = Model(4);
        model.Compile(optimizer: "adam", loss: Loss.FromFunction("RMSE_registered", Rmse));
        model.Save(path);
        var registered = Loss.FromFunction("RMSE_registered", Rmse);
        CustomObjects.Register("RMSE_registered", registered);
        try
        {
            using var loaded = Sequential.Load(path);
            Assert.Same(registered, loaded.Loss);
            // The load's own objects come before the registry.
            var own = Loss.FromFunction("RMSE_registered", Rmse);
            using var overridden = Sequential.Load(path, customObjects: new Dictionary<string, object> { ["RMSE_registered"] = own });
            Assert.Same(own, overridden.Loss);
        }
        finally
        {
            Assert.True(CustomObjects.Unregister("RMSE_registered"));
        }
        Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
    }

    [Theory]
    // Keras 3, a Loss subclass registered with register_keras_serializable(package="Custom").
    [InlineData("""{"module": null, "class_name": "RMSE", "config": {"name": "RMSE", "reduction": "sum_over_batch_size"}, "registered_name": "Custom>RMSE"}""")]
    // Keras 3, an unregistered Loss subclass in __main__ (registered_name is then the class name).
    [InlineData("""{"module": null, "class_name": "RMSE", "config": {"name": "RMSE", "reduction": "sum_over_batch_size"}, "registered_name": "RMSE"}""")]
    // Keras 2 / h5: the function's name.
    [InlineData("\"RMSE\"")]
    public void Load_KerasFormsOfACustomLoss_ResolvedByName(string lossJson)
    {
        using var folder = new TempFolder();
        var source = folder.File("m.keras");
        var model = Model(5);
        model.Compile(optimizer: "adam", loss: "mse");
        model.Save(source);
        var path = folder.File("edited.keras");
        File.Copy(source, path);
        using (var archive = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            var entry = archive.GetEntry("config.json")!;
            string text;
            using (var reader = new StreamReader(entry.Open()))
                text = reader.ReadToEnd();
            entry.Delete();
            var edited = text.Replace("""{"module":"keras.losses","class_name":"MeanSquaredError","config":{"name":"mean_squared_error","reduction":"sum_over_batch_size"},"registered_name":null}""", lossJson);
            Assert.NotEqual(text, edited);
            using var writer = new StreamWriter(archive.CreateEntry("config.json").Open());
            writer.Write(edited);
        }

        Assert.Contains("'RMSE'", Assert.Throws<InvalidDataException>(() => Sequential.Load(path)).Message.Replace("Custom>RMSE", "RMSE"));
        var rmse = Loss.FromFunction("RMSE", Rmse);
        using var loaded = Sequential.Load(path, customObjects: new Dictionary<string, object> { ["RMSE"] = rmse });
        Assert.Same(rmse, loaded.Loss);
    }

    [Fact]
    public void Load_LegacyH5WithCustomLossName_ResolvedOrRefusedWithBothWaysOut()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.h5");
        LegacyH5Tests.WriteLegacyFile(path, trainingConfig: """
            {"loss": "RMSE", "metrics": ["RMSE"], "weighted_metrics": null, "loss_weights": null,
             "optimizer_config": {"class_name": "Adam", "config": {"name": "Adam", "learning_rate": 0.001, "decay": 0.0, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": false}}}
            """);
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains("'RMSE'", e.Message);
        Assert.Contains("compile: false", e.Message);
        using (var uncompiled = Sequential.Load(path, compile: false))
            Assert.False(uncompiled.Compiled);
        using var loaded = Sequential.Load(path, customObjects: new Dictionary<string, object> { ["RMSE"] = (Func<Tensor, Tensor, Tensor>)Rmse });
        Assert.Equal("RMSE", loaded.Loss!.Name);
        Assert.Equal("RMSE", loaded.Metrics.Single().Name);
    }

    [Fact]
    public void Load_CustomObjectOfTheWrongKind_InvalidDataSayingWhatWasNeeded()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        var model = Model(6);
        model.Compile(optimizer: "adam", loss: Loss.FromFunction("RMSE", Rmse));
        model.Save(path);
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path,
            customObjects: new Dictionary<string, object> { ["RMSE"] = (Func<Tensor, Tensor>)(x => x) }));
        Assert.Contains("a Func<Tensor, Tensor>", e.Message);
        Assert.Contains("a loss must be a Loss, a Loss subclass's Type or a Func<Tensor, Tensor, Tensor>", e.Message);
    }

    [Fact]
    public void RegisterAndLoad_ValueOfAnUnusableKind_ArgumentExceptionListingTheKinds()
    {
        var e = Assert.Throws<ArgumentException>(() => CustomObjects.Register("x", 42));
        Assert.Contains("a Loss, a Metric", e.Message);
        Assert.Contains("Received: a Int32", e.Message);
        Assert.Throws<ArgumentException>(() => CustomObjects.Register("x", typeof(string)));
        Assert.Throws<ArgumentException>(() => CustomObjects.Register("", Loss.Get("mse")));
        Assert.False(CustomObjects.Registered.ContainsKey("x"));

        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        var model = Model(7);
        model.Save(path);
        var bad = Assert.Throws<ArgumentException>(() => Sequential.Load(path, customObjects: new Dictionary<string, object> { ["f"] = "not a function" }));
        Assert.Equal("customObjects", bad.ParamName);
        Assert.Contains("'f'", bad.Message);
    }

    [Fact]
    public void DesignContract_NamesAndShapesCompile()
    {
        // The contract of /work/shared/DESIGN.md "API added next", as written there.
        var rmse = Loss.FromFunction("RMSE", (yTrue, yPred) => sqrt(mean(square(yPred - yTrue), [-1L])));
        var model = Model(8);
        model.Add(new Lambda(x => x * 400, functionName: "times400"));
        model.Compile(optimizer: "adam", loss: rmse);
        using var folder = new TempFolder();
        var path = folder.File("model.keras");
        model.Save(path);
        using var m = Sequential.Load(path, compile: true,
            customObjects: new Dictionary<string, object> { ["RMSE"] = rmse, ["times400"] = (Func<Tensor, Tensor>)(x => x * 400) });
        var (x, y) = Data();
        TensorAssert.Close(model.Predict(x, verbose: 0), m.Predict(x, verbose: 0), atol: 0, what: "predictions");
        double expected = RmseByHand(y, m.Predict(x, verbose: 0));
        Assert.Equal(expected, m.Evaluate(x, y, verbose: 0)["loss"], expected * 1e-5);
    }
}
