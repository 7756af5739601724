using SeqSharp.Layers;
using SeqSharp.Losses;
using SeqSharp.Metrics;
using SeqSharp.Optimizers;
using SeqSharp.Tests.TestSupport;
using Mae = SeqSharp.Metrics.MeanAbsoluteError;
using Mse = SeqSharp.Losses.MeanSquaredError;

namespace SeqSharp.Tests.Models;

/// <summary><c>Compile</c>: Keras's defaults, names and objects, and refusals that keep the previous configuration.</summary>
public class SequentialCompileTests
{
    private static Sequential Model() => new([new Dense(1, inputShape: [3])]);

    [Fact]
    public void Compile_NoArguments_RmspropWithKerasDefaultsAndNoLoss()
    {
        var model = Model();
        Assert.False(model.Compiled);
        model.Compile();
        Assert.True(model.Compiled);
        var rmsprop = Assert.IsType<RMSprop>(model.Optimizer);
        Assert.Equal("rmsprop", rmsprop.Name);
        Assert.Equal(1e-3, rmsprop.LearningRate);
        Assert.Null(model.Loss);
        Assert.Empty(model.Metrics);
    }

    [Fact]
    public void Compile_Strings_ResolveToKerasObjects()
    {
        var model = Model();
        model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae", "mean_squared_error"]);
        Assert.IsType<Adam>(model.Optimizer);
        Assert.IsType<Mse>(model.Loss);
        Assert.IsType<Mae>(model.Metrics[0]);
        Assert.Equal(new[] { "mae", "mean_squared_error" }, model.Metrics.Select(m => m.Name));
    }

    [Fact]
    public void Compile_Objects_AreUsedAsGiven()
    {
        var model = Model();
        var optimizer = new SGD(learningRate: 0.5);
        var loss = new Huber(delta: 2.0);
        var metric = new Mae("abs_error");
        model.Compile(optimizer: optimizer, loss: loss, metrics: [metric]);
        Assert.Same(optimizer, model.Optimizer);
        Assert.Same(loss, model.Loss);
        Assert.Same(metric, Assert.Single(model.Metrics));

        var history = model.Fit(randn(4, 3), randn(4, 1), verbose: 0);
        Assert.Equal(new[] { "loss", "abs_error" }, history.Keys);
        Assert.Equal(1, optimizer.Iterations);
    }

    [Theory]
    [InlineData("optimizer", "adamm", "adadelta, adagrad, adam, adamax, adamw, ftrl, lion, nadam, rmsprop, sgd")]
    [InlineData("loss", "mean_squared_eror", "mse")]
    [InlineData("loss", "mse2", "binary_crossentropy")]
    [InlineData("metric", "maee", "mae")]
    [InlineData("metric", "precison", "accuracy")]
    public void Compile_UnknownName_ArgumentExceptionListingValidNamesAndKeepingTheConfiguration(string kind, string name, string listed)
    {
        var model = Model();
        model.Compile(optimizer: "sgd", loss: "mae", metrics: ["mse"]);
        var optimizer = model.Optimizer;
        var loss = model.Loss;

        var e = Assert.Throws<ArgumentException>(() =>
        {
            switch (kind)
            {
                case "optimizer": model.Compile(optimizer: name, loss: "mse"); break;
                case "loss": model.Compile(optimizer: "adam", loss: name); break;
                default: model.Compile(optimizer: "adam", loss: "mse", metrics: ["mse", name]); break;
            }
        });

        Assert.Contains($"'{name}'", e.Message);
        Assert.Contains(listed, e.Message);
        Assert.Same(optimizer, model.Optimizer);
        Assert.Same(loss, model.Loss);
        Assert.Equal("mse", Assert.Single(model.Metrics).Name);
    }

    [Theory]
    [InlineData("mae", "mae")]
    [InlineData("loss")]
    public void Compile_DuplicateMetricNames_RefusedAndConfigurationKept(params string[] names)
    {
        var model = Model();
        model.Compile(optimizer: "sgd", loss: "mse");
        var optimizer = model.Optimizer;
        var e = Assert.Throws<ArgumentException>(() => model.Compile(optimizer: "adam", loss: "mae", metrics: names.Select(n => (Metric)n).ToList()));
        Assert.Contains($"'{names[0]}'", e.Message);
        Assert.Same(optimizer, model.Optimizer);
        Assert.IsType<Mse>(model.Loss);
        Assert.Empty(model.Metrics);
    }

    [Fact]
    public void Compile_Again_ReplacesOptimizerLossAndMetrics()
    {
        var model = Model();
        var (x, y) = (randn(6, 3), randn(6, 1));
        model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae"]);
        model.Fit(x, y, verbose: 0);
        model.Compile(optimizer: "sgd", loss: "mae");
        Assert.IsType<SGD>(model.Optimizer);
        Assert.Equal(0, model.Optimizer!.Iterations);
        Assert.Equal(new[] { "loss" }, model.Fit(x, y, verbose: 0).Keys);
        Assert.Equal(1, model.Optimizer.Iterations);
    }

    [Fact]
    public void Compile_NullMetric_Refused()
    {
        var model = Model();
        Assert.Throws<ArgumentException>(() => model.Compile(loss: "mse", metrics: [null!]));
        Assert.False(model.Compiled);
    }

    [Fact]
    public void Compile_AdamFromString_HasKerasDefaults()
    {
        var model = TinyModels.LstmDense();
        model.Compile(optimizer: "adam", loss: "mse");
        var adam = Assert.IsType<Adam>(model.Optimizer);
        Assert.Equal(1e-3, adam.LearningRate);
        var config = adam.GetConfig();
        Assert.Equal(0.9, config["beta_1"]);
        Assert.Equal(0.999, config["beta_2"]);
        Assert.Equal(1e-7, config["epsilon"]);
    }
}
