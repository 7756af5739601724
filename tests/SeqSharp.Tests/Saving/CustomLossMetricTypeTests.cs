using System.IO.Compression;
using System.Text.Json;
using SeqSharp.Layers;
using SeqSharp.Losses;
using SeqSharp.Metrics;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Saving;

/// <summary>
/// A user's <see cref="Loss"/> subclass and <see cref="Metric"/> subclass supplied by their TYPE (Keras's
/// <c>register_keras_serializable</c> on a class with <c>get_config</c>): saved as Keras writes a custom class,
/// rebuilt from the file's config by their config constructor, and evaluated as computed by hand.
/// </summary>
public class CustomLossMetricTypeTests
{
    /// <summary>Mean squared error per sample times a factor: a loss with its own argument.</summary>
    public sealed class ScaledMse : Loss
    {
        public ScaledMse(double factor = 1.0, string name = "scaled_mse") : base(name, "sum_over_batch_size") => Factor = factor;

        public ScaledMse(IReadOnlyDictionary<string, object?> config)
            : base((string)config["name"]!, config.GetValueOrDefault("reduction") as string ?? "sum_over_batch_size") =>
            Factor = Convert.ToDouble(config["factor"]);

        public double Factor { get; }

        public override Tensor Compute(Tensor yTrue, Tensor yPred) => (yPred - yTrue).square().mean([-1L]) * Factor;

        public override Dictionary<string, object?> GetConfig()
        {
            var config = base.GetConfig();
            config["factor"] = Factor;
            return config;
        }
    }

    /// <summary>The fraction of predicted values within <c>tolerance</c> of the target: a metric with running totals and an argument.</summary>
    public sealed class FractionWithin : Metric
    {
        private double _hits, _count;

        public FractionWithin(double tolerance, string name = "fraction_within") : base(name) => Tolerance = tolerance;

        public FractionWithin(IReadOnlyDictionary<string, object?> config) : base((string)config["name"]!) =>
            Tolerance = Convert.ToDouble(config["tolerance"]);

        public double Tolerance { get; }

        public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null)
        {
            using var scope = NewDisposeScope();
            _hits += (yPred - yTrue).abs().le(Tolerance).sum().item<long>();
            _count += yPred.numel();
        }

        public override double Result() => _count == 0 ? 0 : _hits / _count;

        public override void ResetState() => _hits = _count = 0;

        public override Dictionary<string, object?> GetConfig()
        {
            var config = base.GetConfig();
            config["tolerance"] = Tolerance;
            return config;
        }
    }

    /// <summary>A loss without a config constructor: a file cannot rebuild it.</summary>
    public sealed class NoConfigLoss() : Loss("no_config", "sum_over_batch_size")
    {
        public override Tensor Compute(Tensor yTrue, Tensor yPred) => (yPred - yTrue).abs().mean([-1L]);
    }

    /// <summary>A loss whose config constructor needs a key the file does not hold.</summary>
    public sealed class NeedsDelta : Loss
    {
        public NeedsDelta(IReadOnlyDictionary<string, object?> config) : base("needs_delta", "sum_over_batch_size") =>
            _ = Convert.ToDouble(config["delta"]);

        public override Tensor Compute(Tensor yTrue, Tensor yPred) => (yPred - yTrue).abs().mean([-1L]);
    }

    private static Sequential Model()
    {
        manual_seed(40);
        return new Sequential([new Dense(4, activation: "tanh", inputShape: [3]), new Dense(2)]);
    }

    private static (Tensor X, Tensor Y) Data()
    {
        manual_seed(41);
        return (randn(12, 3), randn(12, 2) * 0.3);
    }

    private static Dictionary<string, object> Types() => new()
    {
        ["ScaledMse"] = typeof(ScaledMse),
        ["FractionWithin"] = typeof(FractionWithin),
    };

    /// <summary>The loss and the metric over the whole set in float64, written out: factor × mean over samples of the mean squared error, and the fraction within tolerance.</summary>
    private static (double Loss, double Fraction) ByHand(Tensor yTrue, Tensor yPred, double factor, double tolerance)
    {
        var t = yTrue.to_type(ScalarType.Float64).data<double>().ToArray();
        var p = yPred.to_type(ScalarType.Float64).data<double>().ToArray();
        int features = (int)yPred.shape[^1], samples = p.Length / features;
        double loss = 0, hits = 0;
        for (int s = 0; s < samples; s++)
        {
            double sum = 0;
            for (int f = 0; f < features; f++)
            {
                double d = p[s * features + f] - t[s * features + f];
                sum += d * d;
                hits += Math.Abs(d) <= tolerance ? 1 : 0;
            }
            loss += factor * sum / features;
        }
        return (loss / samples, hits / p.Length);
    }

    private static JsonElement CompileConfig(string path)
    {
        using var archive = ZipFile.OpenRead(path);
        using var stream = archive.GetEntry("config.json")!.Open();
        return JsonDocument.Parse(stream).RootElement.GetProperty("compile_config").Clone();
    }

    [Fact]
    public void Save_LossAndMetricSubclasses_WrittenAsKerasWritesCustomClasses_LoadRebuildsThemFromTheirConfig()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        var model = Model();
        model.Compile(optimizer: "adam", loss: new ScaledMse(2.5, name: "scaled"), metrics: [new FractionWithin(0.2, name: "within")]);
        model.Save(path);

        var compile = CompileConfig(path);
        var loss = compile.GetProperty("loss");
        Assert.Equal("ScaledMse", loss.GetProperty("class_name").GetString());
        Assert.Equal(typeof(ScaledMse).Namespace, loss.GetProperty("module").GetString());
        Assert.Equal("ScaledMse", loss.GetProperty("registered_name").GetString());   // unregistered: the class name, as Keras writes it
        Assert.Equal(2.5, loss.GetProperty("config").GetProperty("factor").GetDouble());
        Assert.Equal("scaled", loss.GetProperty("config").GetProperty("name").GetString());
        var metric = compile.GetProperty("metrics")[0];
        Assert.Equal("FractionWithin", metric.GetProperty("class_name").GetString());
        Assert.Equal(0.2, metric.GetProperty("config").GetProperty("tolerance").GetDouble());

        using var loaded = Sequential.Load(path, customObjects: Types());
        var rebuilt = Assert.IsType<ScaledMse>(loaded.Loss);
        Assert.Equal(2.5, rebuilt.Factor);
        Assert.Equal("scaled", rebuilt.Name);
        Assert.Equal(0.2, Assert.IsType<FractionWithin>(loaded.Metrics.Single()).Tolerance);

        var (x, y) = Data();
        var scores = loaded.Evaluate(x, y, verbose: 0);
        var (expectedLoss, expectedFraction) = ByHand(y, loaded.Predict(x, verbose: 0), 2.5, 0.2);
        Assert.Equal(expectedLoss, scores["loss"], 5);
        Assert.Equal(expectedFraction, scores["within"], 9);
        Assert.InRange(expectedFraction, 0.05, 0.95);   // the data make the metric informative
        // Training continues with them, and a second save writes them again.
        Assert.Equal(2, loaded.Fit(x, y, epochs: 2, verbose: 0)["within"].Count);
        loaded.Save(folder.File("again.keras"));
        Assert.Equal(2.5, CompileConfig(folder.File("again.keras")).GetProperty("loss").GetProperty("config").GetProperty("factor").GetDouble());
    }

    [Fact]
    public void Register_Types_SavedUnderTheRegisteredName_FoundWithoutCustomObjects_AlsoInLegacyH5()
    {
        const string lossName = "Tests>ScaledMse_registered", metricName = "Tests>FractionWithin_registered";
        CustomObjects.Register(lossName, typeof(ScaledMse));
        CustomObjects.Register(metricName, typeof(FractionWithin));
        try
        {
            using var folder = new TempFolder();
            var model = Model();
            model.Compile(optimizer: "sgd", loss: new ScaledMse(0.5), metrics: [new FractionWithin(0.1)]);
            model.Save(folder.File("m.keras"));
            model.Save(folder.File("m.h5"));
            Assert.Equal(lossName, CompileConfig(folder.File("m.keras")).GetProperty("loss").GetProperty("registered_name").GetString());

            foreach (var file in new[] { "m.keras", "m.h5" })
            {
                using var loaded = Sequential.Load(folder.File(file));
                Assert.Equal(0.5, Assert.IsType<ScaledMse>(loaded.Loss).Factor);
                Assert.Equal(0.1, Assert.IsType<FractionWithin>(loaded.Metrics.Single()).Tolerance);
            }
        }
        finally
        {
            CustomObjects.Unregister(lossName);
            CustomObjects.Unregister(metricName);
        }
    }

    [Fact]
    public void Load_KerasFormOfARegisteredClass_PackagePrefixedName_SuppliedByClassName()
    {
        // What Keras 3 writes for @register_keras_serializable(package="Custom") class ScaledMse(keras.losses.Loss).
        using var folder = new TempFolder();
        var source = folder.File("m.keras");
        var model = Model();
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
            var edited = text.Replace(
                """{"module":"keras.losses","class_name":"MeanSquaredError","config":{"name":"mean_squared_error","reduction":"sum_over_batch_size"},"registered_name":null}""",
                """{"module": null, "class_name": "ScaledMse", "config": {"name": "scaled_mse", "reduction": "sum_over_batch_size", "factor": 3.0}, "registered_name": "Custom>ScaledMse"}""");
            Assert.NotEqual(text, edited);
            using var writer = new StreamWriter(archive.CreateEntry("config.json").Open());
            writer.Write(edited);
        }

        using var loaded = Sequential.Load(path, customObjects: Types());
        Assert.Equal(3.0, Assert.IsType<ScaledMse>(loaded.Loss).Factor);
    }

    [Fact]
    public void Register_LossOrMetricTypeWithoutConfigConstructor_ArgumentExceptionSayingWhatToAdd()
    {
        var e = Assert.Throws<ArgumentException>(() => CustomObjects.Register("NoConfigLoss", typeof(NoConfigLoss)));
        Assert.Contains(typeof(NoConfigLoss).FullName!, e.Message);
        Assert.Contains("IReadOnlyDictionary<string, object?> config", e.Message);
        Assert.False(CustomObjects.Registered.ContainsKey("NoConfigLoss"));
        Assert.Throws<ArgumentException>(() => CustomObjects.Register("Abstract", typeof(Loss)));
    }

    [Fact]
    public void Save_UserLossWithoutConfigConstructorOrRegistration_RefusedSayingHow_RegisteredObjectSaves()
    {
        using var folder = new TempFolder();
        var model = Model();
        var loss = new NoConfigLoss();
        model.Compile(optimizer: "adam", loss: loss);
        var e = Assert.Throws<NotSupportedException>(() => model.Save(folder.File("m.keras")));
        Assert.Contains("no_config", e.Message);
        Assert.Contains("config constructor", e.Message);
        Assert.False(File.Exists(folder.File("m.keras")));

        // Registering the object itself is enough: the file names it, and loading takes that object.
        CustomObjects.Register("Tests>no_config_object", loss);
        try
        {
            model.Save(folder.File("m.keras"));
            using var loaded = Sequential.Load(folder.File("m.keras"));
            Assert.Same(loss, loaded.Loss);
        }
        finally
        {
            CustomObjects.Unregister("Tests>no_config_object");
        }
    }

    [Fact]
    public void Load_ConfigConstructorFails_OrTypeOfTheWrongKind_InvalidDataNamingIt()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        var model = Model();
        model.Compile(optimizer: "adam", loss: new ScaledMse(2.0), metrics: [new FractionWithin(0.2)]);
        model.Save(path);

        var failing = Assert.Throws<InvalidDataException>(() => Sequential.Load(path, customObjects: new Dictionary<string, object>
        {
            ["ScaledMse"] = typeof(NeedsDelta),
            ["FractionWithin"] = typeof(FractionWithin),
        }));
        Assert.Contains("the loss in compile_config", failing.Message);
        Assert.Contains(typeof(NeedsDelta).FullName!, failing.Message);

        var wrongKind = Assert.Throws<InvalidDataException>(() => Sequential.Load(path, customObjects: new Dictionary<string, object>
        {
            ["ScaledMse"] = typeof(FractionWithin),
            ["FractionWithin"] = typeof(FractionWithin),
        }));
        Assert.Contains("a loss must be", wrongKind.Message);
        Assert.Contains(typeof(FractionWithin).FullName!, wrongKind.Message);
    }
}
