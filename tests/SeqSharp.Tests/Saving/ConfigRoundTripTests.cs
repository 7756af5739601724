using SeqSharp.Callbacks;
using SeqSharp.Initializers;
using SeqSharp.Layers;
using SeqSharp.Losses;
using SeqSharp.Metrics;
using SeqSharp.Optimizers;
using SeqSharp.Optimizers.Schedules;
using SeqSharp.Saving;
using SeqSharp.Tests.Layers;

namespace SeqSharp.Tests.Saving;

/// <summary>
/// Keras's <c>run_class_serialization_test</c> for everything a saved model holds: every concrete
/// public layer, optimizer, schedule, loss, metric and initializer type, found by reflection, is
/// rebuilt from its config, from CLR values and from the JSON a model file holds, to the same config.
/// A new type without a sample here, or without config support, fails this test.
/// </summary>
/// <remarks>
/// Callbacks are not part of a saved model (Keras's <c>model.save</c> does not store them either, and
/// several hold C# delegates), so they have no config.
/// </remarks>
public class ConfigRoundTripTests
{
    /// <summary>One instance of every type, with non-default arguments where the type has any.</summary>
    private static readonly Dictionary<Type, Func<object>> Samples = new()
    {
        [typeof(Adam)] = () => new Adam(learningRate: 0.02, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, amsgrad: true, clipnorm: 2.0, name: "a"),
        [typeof(AdamW)] = () => new AdamW(learningRate: new CosineDecay(0.1, 100, alpha: 0.1, warmupTarget: 0.2, warmupSteps: 10), weightDecay: 0.01, globalClipnorm: 1.0),
        [typeof(RMSprop)] = () => new RMSprop(learningRate: 0.01, rho: 0.8, momentum: 0.5, epsilon: 1e-5, centered: true, clipvalue: 0.5),
        [typeof(SGD)] = () => new SGD(learningRate: new PiecewiseConstantDecay([10, 20], [0.1, 0.05, 0.01]), momentum: 0.9, nesterov: true, weightDecay: 0.001),
        [typeof(Adagrad)] = () => new Adagrad(learningRate: new ExponentialDecay(0.1, 50, 0.5, staircase: true), initialAccumulatorValue: 0.2, epsilon: 1e-6),
        [typeof(Nadam)] = () => new Nadam(learningRate: 0.02, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, clipnorm: 2.0),
        [typeof(Adamax)] = () => new Adamax(learningRate: 0.02, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.01),
        [typeof(Adadelta)] = () => new Adadelta(learningRate: 1.0, rho: 0.9, epsilon: 1e-6),
        [typeof(Lion)] = () => new Lion(learningRate: 1e-4, beta1: 0.8, beta2: 0.95, name: "lion2"),
        [typeof(Ftrl)] = () => new Ftrl(learningRate: 0.1, learningRatePower: -0.7, initialAccumulatorValue: 0.2, l1RegularizationStrength: 0.01,
            l2RegularizationStrength: 0.02, l2ShrinkageRegularizationStrength: 0.03, beta: 0.5),
        [typeof(KLDivergence)] = () => new KLDivergence(reduction: "sum"),
        [typeof(Poisson)] = () => new Poisson(name: "p"),
        [typeof(Hinge)] = () => new Hinge(reduction: "none"),
        [typeof(SquaredHinge)] = () => new SquaredHinge(name: "sh"),
        [typeof(CategoricalHinge)] = () => new CategoricalHinge(reduction: "sum"),
        [typeof(CosineSimilarity)] = () => new CosineSimilarity(axis: 1, reduction: "sum"),
        [typeof(ConstantSchedule)] = () => new ConstantSchedule(0.25),
        [typeof(CosineDecay)] = () => new CosineDecay(0.1, 100, alpha: 0.1, warmupTarget: 0.2, warmupSteps: 10),
        [typeof(ExponentialDecay)] = () => new ExponentialDecay(0.1, 50, 0.5, staircase: true),
        [typeof(PiecewiseConstantDecay)] = () => new PiecewiseConstantDecay([10, 20], [0.1, 0.05, 0.01]),
        [typeof(SeqSharp.Losses.BinaryCrossentropy)] = () => new SeqSharp.Losses.BinaryCrossentropy(fromLogits: true, labelSmoothing: 0.1, reduction: "sum", name: "bce"),
        [typeof(SeqSharp.Losses.CategoricalCrossentropy)] = () => new SeqSharp.Losses.CategoricalCrossentropy(fromLogits: true, labelSmoothing: 0.2, axis: 1),
        [typeof(Huber)] = () => new Huber(delta: 0.5, reduction: "sum"),
        [typeof(LogCosh)] = () => new LogCosh(reduction: "none"),
        [typeof(SeqSharp.Losses.MeanAbsoluteError)] = () => new SeqSharp.Losses.MeanAbsoluteError(name: "l1"),
        [typeof(SeqSharp.Losses.MeanAbsolutePercentageError)] = () => new SeqSharp.Losses.MeanAbsolutePercentageError(reduction: "sum"),
        [typeof(SeqSharp.Losses.MeanSquaredError)] = () => new SeqSharp.Losses.MeanSquaredError(reduction: "mean_with_sample_weight"),
        [typeof(SeqSharp.Losses.MeanSquaredLogarithmicError)] = () => new SeqSharp.Losses.MeanSquaredLogarithmicError(name: "msle"),
        [typeof(SeqSharp.Losses.SparseCategoricalCrossentropy)] = () => new SeqSharp.Losses.SparseCategoricalCrossentropy(fromLogits: true, ignoreClass: 3),
        [typeof(AutoAccuracy)] = () => new AutoAccuracy("acc"),
        [typeof(BinaryAccuracy)] = () => new BinaryAccuracy(threshold: 0.25, name: "ba"),
        [typeof(SeqSharp.Metrics.BinaryCrossentropy)] = () => new SeqSharp.Metrics.BinaryCrossentropy(fromLogits: true, labelSmoothing: 0.1),
        [typeof(CategoricalAccuracy)] = () => new CategoricalAccuracy("ca"),
        [typeof(SeqSharp.Metrics.CategoricalCrossentropy)] = () => new SeqSharp.Metrics.CategoricalCrossentropy(fromLogits: true, labelSmoothing: 0.1, axis: 1),
        [typeof(LogCoshError)] = () => new LogCoshError("lc"),
        [typeof(Mean)] = () => new Mean("m"),
        [typeof(SeqSharp.Metrics.MeanAbsoluteError)] = () => new SeqSharp.Metrics.MeanAbsoluteError("mae"),
        [typeof(SeqSharp.Metrics.MeanAbsolutePercentageError)] = () => new SeqSharp.Metrics.MeanAbsolutePercentageError("mape"),
        [typeof(MeanMetricWrapper)] = () => new MeanMetricWrapper("binary_accuracy", name: "wrapped"),
        [typeof(SeqSharp.Metrics.MeanSquaredError)] = () => new SeqSharp.Metrics.MeanSquaredError("mse"),
        [typeof(SeqSharp.Metrics.MeanSquaredLogarithmicError)] = () => new SeqSharp.Metrics.MeanSquaredLogarithmicError("msle"),
        [typeof(R2Score)] = () => new R2Score(classAggregation: "variance_weighted_average", numRegressors: 2, name: "r2"),
        [typeof(RootMeanSquaredError)] = () => new RootMeanSquaredError("rmse"),
        [typeof(SparseCategoricalAccuracy)] = () => new SparseCategoricalAccuracy("sca"),
        [typeof(SeqSharp.Metrics.SparseCategoricalCrossentropy)] = () => new SeqSharp.Metrics.SparseCategoricalCrossentropy(fromLogits: true, ignoreClass: 2),
        [typeof(Precision)] = () => new Precision(thresholds: [0.3, 0.6], classId: 1, name: "p"),
        [typeof(Recall)] = () => new Recall(topK: 2, name: "r"),
        [typeof(AUC)] = () => new AUC(numThresholds: 50, curve: "PR", summationMethod: "minoring", multiLabel: true, numLabels: 3, labelWeights: [1, 2, 3], fromLogits: true),
        [typeof(F1Score)] = () => new F1Score(average: "macro", threshold: 0.4),
        [typeof(FBetaScore)] = () => new FBetaScore(average: "weighted", beta: 2.0, name: "f2"),
        [typeof(TopKCategoricalAccuracy)] = () => new TopKCategoricalAccuracy(k: 3, name: "top3"),
        [typeof(Constant)] = () => new Constant(0.5),
        [typeof(GlorotNormal)] = () => new GlorotNormal(),
        [typeof(GlorotUniform)] = () => new GlorotUniform(),
        [typeof(HeNormal)] = () => new HeNormal(),
        [typeof(HeUniform)] = () => new HeUniform(),
        [typeof(LecunNormal)] = () => new LecunNormal(),
        [typeof(LecunUniform)] = () => new LecunUniform(),
        [typeof(Ones)] = () => new Ones(),
        [typeof(Orthogonal)] = () => new Orthogonal(gain: 2.0),
        [typeof(RandomNormal)] = () => new RandomNormal(0.5, 0.1),
        [typeof(RandomUniform)] = () => new RandomUniform(-0.2, 0.3),
        [typeof(VarianceScaling)] = () => new VarianceScaling(2.0, "fan_out", "uniform"),
        [typeof(Zeros)] = () => new Zeros(),
        [typeof(SeqSharp.Regularizers.L1)] = () => new SeqSharp.Regularizers.L1(0.02),
        [typeof(SeqSharp.Regularizers.L2)] = () => new SeqSharp.Regularizers.L2(0.03),
        [typeof(SeqSharp.Regularizers.L1L2)] = () => new SeqSharp.Regularizers.L1L2(0.01, 0.02),
        [typeof(SeqSharp.Regularizers.OrthogonalRegularizer)] = () => new SeqSharp.Regularizers.OrthogonalRegularizer(0.05, "columns"),
        [typeof(SeqSharp.Constraints.MaxNorm)] = () => new SeqSharp.Constraints.MaxNorm(3, [0, 1]),
        [typeof(SeqSharp.Constraints.MinMaxNorm)] = () => new SeqSharp.Constraints.MinMaxNorm(0.5, 2, 0.5),
        [typeof(SeqSharp.Constraints.NonNeg)] = () => new SeqSharp.Constraints.NonNeg(),
        [typeof(SeqSharp.Constraints.UnitNorm)] = () => new SeqSharp.Constraints.UnitNorm([1]),
    };

    /// <summary>Each family's base type, and how it reads a config and rebuilds from one.</summary>
    private static readonly (Type Base, Func<object, (string ClassName, IReadOnlyDictionary<string, object?> Config)> Read, Func<string, IReadOnlyDictionary<string, object?>, object> Rebuild)[] Families =
    [
        (typeof(Layer), o => (((Layer)o).ClassName, ((Layer)o).GetConfig()), (c, v) => Layer.FromConfig(c, v)),
        (typeof(Optimizer), o => (((Optimizer)o).ClassName, ((Optimizer)o).GetConfig()), (c, v) => Optimizer.FromConfig(c, v)),
        (typeof(LearningRateSchedule), o => (((LearningRateSchedule)o).ClassName, ((LearningRateSchedule)o).GetConfig()), (c, v) => LearningRateSchedule.FromConfig(c, v)),
        (typeof(Loss), o => (((Loss)o).ClassName, ((Loss)o).GetConfig()), (c, v) => Loss.FromConfig(c, v)),
        (typeof(Metric), o => (((Metric)o).ClassName, ((Metric)o).GetConfig()), (c, v) => Metric.FromConfig(c, v)),
        (typeof(SeqSharp.Regularizers.Regularizer), o => (((SeqSharp.Regularizers.Regularizer)o).ClassName, ((SeqSharp.Regularizers.Regularizer)o).GetConfig()),
            (c, v) => SeqSharp.Regularizers.Regularizer.FromConfig(c, v)),
        (typeof(SeqSharp.Constraints.Constraint), o => (((SeqSharp.Constraints.Constraint)o).ClassName, ((SeqSharp.Constraints.Constraint)o).GetConfig()),
            (c, v) => SeqSharp.Constraints.Constraint.FromConfig(c, v)),
        // Initializers live inside layer configs: rebuilt by the layer config reader from Keras's serialized form.
        (typeof(Initializer), o => (((Initializer)o).ClassName, ((Initializer)o).GetConfig()),
            (c, v) => new LayerConfig("Dense", new Dictionary<string, object?> { ["k"] = new Dictionary<string, object?> { ["class_name"] = c, ["config"] = v } }).Initializer("k")!),
    ];

    private static IEnumerable<Type> ConcreteTypes(Type family) => typeof(Sequential).Assembly.GetTypes()
        .Where(t => t.IsPublic && !t.IsAbstract && family.IsAssignableFrom(t));

    private static Func<object> Sample(Type type)
    {
        if (Samples.TryGetValue(type, out var make))
            return make;
        // Layers have their samples with the layer tests.
        var row = LayerConfigTests.Layers.Single(r => (string)r[0] == type.Name);
        return () => ((Func<Layer>)row[1])();
    }

    [Fact]
    public void FromConfig_EveryConcreteTypeOfEverySavedFamily_RebuildsTheSameConfig()
    {
        var failures = new List<string>();
        int checkedTypes = 0;
        foreach (var (family, read, rebuild) in Families)
        {
            foreach (var type in ConcreteTypes(family))
            {
                try
                {
                    var original = Sample(type)();
                    Assert.IsType(type, original);
                    var (className, config) = read(original);
                    string expected = KerasJson.Write(config);

                    var fromValues = rebuild(className, config);
                    Assert.IsType(type, fromValues);
                    Assert.Equal(expected, KerasJson.Write(read(fromValues).Config));

                    // What a model file holds: the config written as JSON and parsed back.
                    var parsed = (IReadOnlyDictionary<string, object?>)KerasJson.Parse(expected, "test")!;
                    var fromJson = rebuild(className, parsed);
                    Assert.IsType(type, fromJson);
                    Assert.Equal(expected, KerasJson.Write(read(fromJson).Config));
                    checkedTypes++;
                }
                catch (Exception e)
                {
                    failures.Add($"{family.Name} {type.Name}: {e.GetType().Name}: {e.Message}");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(checkedTypes >= Samples.Count, $"checked {checkedTypes} types");
    }

    [Fact]
    public void Callbacks_AreNotPartOfASavedModel()
    {
        // Stated rather than assumed: no callback type has a config, as none is saved.
        Assert.All(ConcreteTypes(typeof(Callback)), t => Assert.Null(t.GetMethod("GetConfig")));
    }
}
