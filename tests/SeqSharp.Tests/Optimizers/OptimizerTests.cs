using SeqSharp.Optimizers;
using SeqSharp.Optimizers.Schedules;
using Parameter = TorchSharp.Modules.Parameter;

namespace SeqSharp.Tests.Optimizers;

/// <summary>What the base class owns: names, the learning rate, clipping arguments, the step loop and the state.</summary>
public class OptimizerTests
{
    [Theory]
    [InlineData("adam", typeof(Adam), "adam")]
    [InlineData("ADAM", typeof(Adam), "adam")]
    [InlineData("AdamW", typeof(AdamW), "adamw")]
    [InlineData("rmsprop", typeof(RMSprop), "rmsprop")]
    [InlineData("RMSprop", typeof(RMSprop), "rmsprop")]
    [InlineData("sgd", typeof(SGD), "sgd")]
    [InlineData("SGD", typeof(SGD), "sgd")]
    [InlineData("adagrad", typeof(Adagrad), "adagrad")]
    public void Get_KnownNameInAnyCase_ReturnsDefaultOptimizer(string name, Type type, string expectedName)
    {
        var optimizer = Optimizer.Get(name);
        Assert.IsType(type, optimizer);
        Assert.Equal(expectedName, optimizer.Name);
        Assert.Equal(0, optimizer.Iterations);
    }

    [Fact]
    public void Get_UnknownName_ListsValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => Optimizer.Get("adamaxx"));
        Assert.Contains("'adamaxx'", e.Message);
        Assert.Contains("adadelta, adagrad, adam, adamax, adamw, ftrl, lion, nadam, rmsprop, sgd", e.Message);
    }

    [Fact]
    public void ImplicitConversion_String_GivesNamedOptimizer()
    {
        Optimizer optimizer = "rmsprop";
        Assert.IsType<RMSprop>(optimizer);
        Assert.Equal(0.001, optimizer.LearningRate);
    }

    [Fact]
    public void Constructor_TwoClippingArguments_ThrowsKerasMessage()
    {
        var e = Assert.Throws<ArgumentException>(() => new SGD(clipnorm: 1.0, clipvalue: 0.5));
        Assert.Contains("Only one of clipnorm, clipvalue and globalClipnorm can be set. Received: clipnorm=1, clipvalue=0.5, globalClipnorm=null.", e.Message);
        Assert.Throws<ArgumentException>(() => new Adam(clipvalue: 0.5, globalClipnorm: 1.0));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Constructor_NonPositiveClipLimit_ThrowsWithValue(double limit)
    {
        Assert.Equal("clipnorm", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(clipnorm: limit)).ParamName);
        Assert.Equal("clipvalue", Assert.Throws<ArgumentOutOfRangeException>(() => new RMSprop(clipvalue: limit)).ParamName);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SGD(globalClipnorm: limit));
        Assert.Equal("globalClipnorm", e.ParamName);
        Assert.Contains("Received: globalClipnorm=", e.Message);
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(double.NaN)]
    public void Constructor_BadLearningRate_Throws(double rate)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(learningRate: rate));
    }

    [Fact]
    public void Constructor_EmptyName_Throws()
    {
        Assert.Throws<ArgumentException>(() => new Adam(name: " "));
    }

    [Fact]
    public void LearningRate_SetWithConstantRate_ReplacesTheConstant()
    {
        var adam = new Adam(learningRate: 0.01);
        adam.LearningRate = 0.05;
        Assert.Equal(0.05, adam.LearningRate);
        Assert.Equal(0.05, Assert.IsType<ConstantSchedule>(adam.Schedule).Value);
        Assert.Equal(0.05, adam.GetConfig()["learning_rate"]);
    }

    [Fact]
    public void LearningRate_SetWithSchedule_ThrowsInvalidOperation()
    {
        var sgd = new SGD(learningRate: new ExponentialDecay(0.1, 10, 0.5));
        var e = Assert.Throws<InvalidOperationException>(() => sgd.LearningRate = 0.05);
        Assert.Contains("ExponentialDecay", e.Message);
        Assert.Equal(0.1, sgd.LearningRate);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.NegativeInfinity)]
    public void LearningRate_SetNegativeOrNonFinite_ThrowsAndKeepsRate(double rate)
    {
        var adam = new Adam(learningRate: 0.01);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => adam.LearningRate = rate);
        Assert.Contains("Received: LearningRate=", e.Message);
        Assert.Equal(0.01, adam.LearningRate);
    }

    [Fact]
    public void LearningRate_WithSchedule_FollowsIterations()
    {
        var sgd = new SGD(learningRate: new PiecewiseConstantDecay([1, 2], [0.3, 0.2, 0.1]));
        var parameters = TinyProblem.CreateParameters();
        var seen = new List<double>();
        for (int i = 0; i < 4; i++)
        {
            seen.Add(sgd.LearningRate);
            TinyProblem.Backward(parameters);
            sgd.Step(parameters);
        }
        Assert.Equal([0.3, 0.3, 0.2, 0.1], seen);
        Assert.Equal(4, sgd.Iterations);
    }

    [Fact]
    public void Step_EmptyList_DoesNothing()
    {
        var adam = new Adam();
        adam.Step([]);
        Assert.Equal(0, adam.Iterations);
        Assert.Single(adam.Variables.Skip(1));
    }

    [Fact]
    public void Step_NoGradients_ThrowsAndDoesNotCount()
    {
        var parameters = TinyProblem.CreateParameters();
        var adam = new Adam();
        var e = Assert.Throws<ArgumentException>(() => adam.Step(parameters));
        Assert.Contains("No gradients", e.Message);
        Assert.Equal(0, adam.Iterations);
        Assert.Equal(TinyProblem.InitialValues(false)[0], parameters[0].data<double>().ToArray());
    }

    [Fact]
    public void Step_DifferentNumberOfVariables_ThrowsAndChangesNothing()
    {
        var parameters = TinyProblem.CreateParameters();
        var adam = new Adam(learningRate: 0.1);
        TinyProblem.Backward(parameters);
        adam.Step(parameters);
        var before = parameters[0].detach().clone();
        var e = Assert.Throws<InvalidOperationException>(() => adam.Step([parameters[0]]));
        Assert.Contains("built for 2 variables", e.Message);
        Assert.Contains("received 1 variables", e.Message);
        Assert.Equal(1, adam.Iterations);
        Assert.True(Same(before, parameters[0]));
    }

    [Fact]
    public void Step_DifferentShapes_ThrowsInvalidOperation()
    {
        var parameters = TinyProblem.CreateParameters();
        var adam = new Adam();
        TinyProblem.Backward(parameters);
        adam.Step(parameters);
        var other = new Parameter(zeros(2, 3, dtype: ScalarType.Float64));
        other.grad = ones(2, 3, dtype: ScalarType.Float64);
        var e = Assert.Throws<InvalidOperationException>(() => adam.Step([other, parameters[1]]));
        Assert.Contains("[3, 2]", e.Message);
        Assert.Contains("[2, 3]", e.Message);
    }

    [Fact]
    public void Step_WithClipping_LeavesGradientsUnchanged()
    {
        var parameters = TinyProblem.CreateParameters();
        TinyProblem.Backward(parameters);
        var gradient = parameters[0].grad!.clone();
        new SGD(clipvalue: 1e-4).Step(parameters);
        Assert.True(Same(gradient, parameters[0].grad!));
    }

    [Fact]
    public void Step_GlobalClipnormWithInfiniteGradient_GivesNaNAsKeras()
    {
        var parameters = TinyProblem.CreateParameters();
        TinyProblem.Backward(parameters);
        parameters[1].grad!.fill_(double.PositiveInfinity);
        new SGD(globalClipnorm: 1.0).Step(parameters);
        Assert.True(parameters[0].isnan().all().item<bool>());
    }

    [Fact]
    public void Step_FirstCalledInsideCallersDisposeScope_StateOutlivesTheScope()
    {
        var parameters = TinyProblem.CreateParameters();
        var adam = new Adam(learningRate: 0.1, amsgrad: true);
        using (NewDisposeScope())
        {
            TinyProblem.Backward(parameters);
            adam.Step(parameters);
        }
        TinyProblem.Backward(parameters);
        adam.Step(parameters);
        Assert.Equal(2, adam.Iterations);
        Assert.All(adam.Variables.Skip(2), v => Assert.False(v.IsInvalid));
        Assert.False(parameters[0].isnan().any().item<bool>());
    }

    [Fact]
    public void Iterations_AfterSteps_CountsThem()
    {
        var parameters = TinyProblem.CreateParameters();
        var rmsprop = new RMSprop();
        for (int i = 0; i < 5; i++)
        {
            TinyProblem.Backward(parameters);
            rmsprop.Step(parameters);
        }
        Assert.Equal(5, rmsprop.Iterations);
        Assert.Equal(5L, rmsprop.Variables[0].item<long>());
    }

    [Fact]
    public void Variables_BeforeBuild_AreIterationAndLearningRate()
    {
        var state = new Adam(learningRate: 0.02).Variables;
        Assert.Equal(2, state.Count);
        Assert.Equal(ScalarType.Int64, state[0].dtype);
        Assert.Equal(0L, state[0].item<long>());
        Assert.Equal(0.02, state[1].item<double>());
    }

    [Fact]
    public void Variables_WithSchedule_HaveNoLearningRate()
    {
        var parameters = TinyProblem.CreateParameters();
        var adam = new Adam(learningRate: new ExponentialDecay(0.1, 10, 0.5));
        adam.Build(parameters);
        Assert.Equal(1 + 2 * parameters.Length, adam.Variables.Count);
    }

    [Fact]
    public void Variables_AreCopies()
    {
        var parameters = TinyProblem.CreateParameters();
        var adam = new Adam();
        TinyProblem.Backward(parameters);
        adam.Step(parameters);
        var first = adam.Variables;
        first[2].fill_(123.0);
        Assert.NotEqual(123.0, adam.Variables[2].data<double>()[0]);
    }

    public static TheoryData<string> StatefulOptimizers => new()
    {
        "adam_amsgrad", "adam_schedule", "adamw", "rmsprop_centered_momentum", "sgd_nesterov", "adagrad",
    };

    private static Optimizer Make(string kind) => kind switch
    {
        "adam_amsgrad" => new Adam(learningRate: 0.1, beta1: 0.5, beta2: 0.5, epsilon: 0.01, amsgrad: true),
        "adam_schedule" => new Adam(learningRate: new ExponentialDecay(0.1, 2, 0.5), epsilon: 0.01),
        "adamw" => new AdamW(learningRate: 0.1, weightDecay: 0.2, epsilon: 0.01),
        "rmsprop_centered_momentum" => new RMSprop(learningRate: 0.05, momentum: 0.5, centered: true, epsilon: 0.01),
        "sgd_nesterov" => new SGD(learningRate: 0.5, momentum: 0.8, nesterov: true),
        "adagrad" => new Adagrad(learningRate: 0.2),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(StatefulOptimizers))]
    public void SetVariables_FromAnotherOptimizer_ContinuesIdentically(string kind)
    {
        var source = Make(kind);
        var sourceParameters = TinyProblem.CreateParameters();
        for (int i = 0; i < 2; i++)
        {
            TinyProblem.Backward(sourceParameters);
            source.Step(sourceParameters);
        }

        var restored = Make(kind);
        var restoredParameters = CopyOf(sourceParameters);
        restored.Build(restoredParameters);
        restored.SetVariables(source.Variables);
        Assert.Equal(source.Iterations, restored.Iterations);
        Assert.Equal(source.LearningRate, restored.LearningRate);

        // A fresh optimizer on the same weights, without the state, must take a different path;
        // otherwise this test could not tell restored state from none.
        var fresh = Make(kind);
        var freshParameters = CopyOf(sourceParameters);

        for (int i = 0; i < 2; i++)
        {
            TinyProblem.Backward(sourceParameters);
            source.Step(sourceParameters);
            TinyProblem.Backward(restoredParameters);
            restored.Step(restoredParameters);
            TinyProblem.Backward(freshParameters);
            fresh.Step(freshParameters);
        }
        for (int i = 0; i < sourceParameters.Length; i++)
            Assert.True(Same(sourceParameters[i], restoredParameters[i]), $"Variable {i} differs after restoring the state.");
        Assert.False(sourceParameters[0].allclose(freshParameters[0], rtol: 0, atol: 1e-10), "The state made no difference.");
    }

    [Fact]
    public void SetVariables_BeforeBuildWithSlots_ThrowsInvalidOperation()
    {
        var source = new Adam();
        var parameters = TinyProblem.CreateParameters();
        source.Build(parameters);
        var e = Assert.Throws<InvalidOperationException>(() => new Adam().SetVariables(source.Variables));
        Assert.Contains("Build", e.Message);
    }

    [Fact]
    public void SetVariables_CountersOnlyBeforeBuild_RestoresIterationsAndRate()
    {
        var sgd = new SGD();
        sgd.SetVariables([tensor(7L), tensor(0.25)]);
        Assert.Equal(7, sgd.Iterations);
        Assert.Equal(0.25, sgd.LearningRate);
    }

    [Fact]
    public void SetVariables_WrongCount_ThrowsWithCounts()
    {
        var adam = new Adam();
        adam.Build(TinyProblem.CreateParameters());
        var values = adam.Variables.Take(5).ToList();
        var e = Assert.Throws<ArgumentException>(() => adam.SetVariables(values));
        Assert.Contains("has 6 state tensors", e.Message);
        Assert.Contains("received 5", e.Message);
    }

    [Fact]
    public void SetVariables_OneWrongShape_ThrowsAndChangesNothing()
    {
        var parameters = TinyProblem.CreateParameters();
        var adam = new Adam(learningRate: 0.1);
        TinyProblem.Backward(parameters);
        adam.Step(parameters);
        var before = adam.Variables;

        var values = before.Select(v => v.clone().fill_(0.5)).ToList();
        values[0] = tensor(9L);
        values[^1] = zeros(3, dtype: ScalarType.Float64);
        var e = Assert.Throws<ArgumentException>(() => adam.SetVariables(values));
        Assert.Contains("shape [2]", e.Message);
        Assert.Contains("received shape [3]", e.Message);

        var after = adam.Variables;
        Assert.Equal(1, adam.Iterations);
        Assert.Equal(0.1, adam.LearningRate);
        for (int i = 0; i < before.Count; i++)
            Assert.True(Same(before[i], after[i]), $"State tensor {i} changed.");
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(2.5)]
    [InlineData(double.NaN)]
    public void SetVariables_BadIterationCount_Throws(double count)
    {
        var sgd = new SGD();
        var e = Assert.Throws<ArgumentException>(() => sgd.SetVariables([tensor(count), tensor(0.1)]));
        Assert.Contains("iteration count", e.Message);
        Assert.Equal(0, sgd.Iterations);
    }

    [Fact]
    public void GetConfig_Schedule_SerializesClassNameAndConfig()
    {
        var config = new SGD(learningRate: new CosineDecay(0.1, 100), clipnorm: 2.0).GetConfig();
        var rate = Assert.IsType<Dictionary<string, object?>>(config["learning_rate"]);
        Assert.Equal("CosineDecay", rate["class_name"]);
        var inner = Assert.IsType<Dictionary<string, object?>>(rate["config"]);
        Assert.Equal(0.1, inner["initial_learning_rate"]);
        Assert.Equal(100L, inner["decay_steps"]);
        Assert.Equal(2.0, config["clipnorm"]);
        Assert.Null(config["clipvalue"]);
        Assert.Null(config["global_clipnorm"]);
        Assert.Null(config["weight_decay"]);
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static Parameter[] CopyOf(Parameter[] parameters)
    {
        using var _ = no_grad();
        return parameters.Select(p => new Parameter(p.detach().clone())).ToArray();
    }
}
