using SeqSharp.Initializers;
using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using Activation = SeqSharp.Layers.Activation;
using Dropout = SeqSharp.Layers.Dropout;
using Embedding = SeqSharp.Layers.Embedding;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Layers;

/// <summary>
/// Keras's <c>run_class_serialization_test</c> for every layer type: <c>Layer.FromConfig(className,
/// GetConfig())</c> rebuilds the same layer, from CLR values and from JSON.
/// </summary>
public class LayerConfigTests
{
    /// <summary>One layer of every type, with non-default arguments where the type has any.</summary>
    public static TheoryData<string, Func<Layer>> Layers => new()
    {
        { "InputLayer", () => new InputLayer([7, 3], name: "in") },
        { "Dense", () => new Dense(5, activation: "relu", useBias: false, kernelInitializer: new RandomNormal(0.5, 0.1), inputShape: [3], dtype: ScalarType.Float64,
            kernelRegularizer: new SeqSharp.Regularizers.L1L2(0.01, 0.02), activityRegularizer: "l1", kernelConstraint: new SeqSharp.Constraints.MaxNorm(3)) },
        { "SimpleRNN", () => new SimpleRNN(4, activation: "relu", recurrentInitializer: "glorot_normal", returnSequences: true, goBackwards: true, stateful: true, batchSize: 8) },
        { "LSTM", () => new LSTM(3, recurrentActivation: "hard_sigmoid", unitForgetBias: false, usePeepholes: true, biasInitializer: new Constant(0.5),
            dropout: 0.25, recurrentDropout: 0.5, seed: 3, returnState: true, zeroOutputForMask: true,
            recurrentRegularizer: new SeqSharp.Regularizers.OrthogonalRegularizer(0.02, "columns"), biasRegularizer: "l2",
            kernelConstraint: new SeqSharp.Constraints.UnitNorm([0, 1]), recurrentConstraint: new SeqSharp.Constraints.MinMaxNorm(0.5, 2, 0.5), biasConstraint: "non_neg") },
        { "GRU", () => new GRU(3, activation: "relu", useBias: false, resetAfter: false, kernelInitializer: new VarianceScaling(2.0, "fan_out", "uniform"),
            stateful: true, inputShape: [6, 2], batchSize: 4) },
        { "Embedding", () => new Embedding(100, 8, maskZero: true, inputLength: 12, embeddingsInitializer: new RandomUniform(-0.1, 0.1)) },
        { "Masking", () => new Masking(-1.0, inputShape: [5, 2]) },
        { "Dropout", () => new Dropout(0.3, noiseShape: [null, 1, null], seed: 5) },
        { "SpatialDropout1D", () => new SpatialDropout1D(0.2, seed: 2, inputShape: [5, 3]) },
        { "GaussianNoise", () => new GaussianNoise(0.1, seed: 4) },
        { "Activation", () => new Activation("softsign", inputShape: [4]) },
        { "RepeatVector", () => new RepeatVector(7) },
        { "Flatten", () => new Flatten(name: "flat") },
        { "Reshape", () => new Reshape([3, -1]) },
        { "Permute", () => new Permute([2, 3, 1]) },
        { "LayerNormalization", () => new LayerNormalization(axis: 1, epsilon: 1e-5, center: false, gammaInitializer: "random_normal") },
        { "Conv1D", () => new Conv1D(8, 5, strides: 2, padding: "causal", activation: "relu", useBias: false, kernelInitializer: "he_normal", inputShape: [20, 3]) },
        { "MaxPooling1D", () => new MaxPooling1D(3, strides: 2, padding: "same") },
        { "AveragePooling1D", () => new AveragePooling1D(4) },
        { "GlobalAveragePooling1D", () => new GlobalAveragePooling1D(keepdims: true) },
        { "GlobalMaxPooling1D", () => new GlobalMaxPooling1D() },
        { "TimeDistributed", () => new TimeDistributed(new Dense(3, activation: "tanh"), inputShape: [5, 2]) },
        { "Bidirectional", () => new Bidirectional(new GRU(3, returnSequences: true, dropout: 0.1), mergeMode: "ave") },
        { "Lambda", () => new Lambda(SampleFunction, functionName: "lambda_config_sample", outputShape: [3], inputShape: [3]) },
        { "Concatenate", () => new Concatenate(axis: 1, name: "join") },
        { "Add", () => new Add(dtype: ScalarType.Float64) },
        { "Subtract", () => new Subtract(name: "minus") },
        { "Multiply", () => new Multiply() },
        { "Average", () => new Average() },
        { "Maximum", () => new Maximum() },
        { "Minimum", () => new Minimum() },
        { "Dot", () => new Dot([1, -1], normalize: true) },
        { "Attention", () => new SeqSharp.Layers.Attention(useScale: true, scoreMode: "concat", dropout: 0.2, seed: 7) },
        { "AdditiveAttention", () => new AdditiveAttention(useScale: false, dropout: 0.1, name: "bahdanau") },
        { "MultiHeadAttention", () => new MultiHeadAttention(4, 8, valueDim: 6, dropout: 0.1, useBias: false, outputShape: [3, 2], attentionAxes: [1],
            kernelInitializer: "he_uniform", biasInitializer: new Constant(0.5), seed: 9, dtype: ScalarType.Float64) },
        { "BatchNormalization", () => new BatchNormalization(axis: -2, momentum: 0.9, epsilon: 1e-4, scale: false, movingVarianceInitializer: new Constant(2)) },
    };

    /// <summary>The Lambda sample's function, registered under the name its config uses.</summary>
    private static readonly Func<Tensor, Tensor> SampleFunction = Register(x => x * 2);

    private static Func<Tensor, Tensor> Register(Func<Tensor, Tensor> function)
    {
        CustomObjects.Register("lambda_config_sample", function);
        return function;
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void FromConfig_GetConfig_RebuildsTheSameLayer(string className, Func<Layer> make)
    {
        var layer = make();
        Assert.Equal(className, layer.ClassName);
        LayerHarness.ConfigRoundTrip(layer);
    }

    [Fact]
    public void FromConfig_EveryConcreteLayerType_IsRegisteredAndTested()
    {
        var concrete = typeof(Layer).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(Layer)) && !t.IsAbstract && t.IsPublic)
            .Select(t => t.Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(concrete, LayerRegistry.Names);
        Assert.Equal(concrete, Layers.Select(row => (string)row[0]).Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void FromConfig_UnknownClass_ListsKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => Layer.FromConfig("Conv3D", new Dictionary<string, object?>()));
        Assert.Contains("'Conv3D'", e.Message);
        Assert.Contains("LSTM", e.Message);
    }

    [Fact]
    public void FromConfig_MissingOrInvalidValues_SayWhichKeyAndWhatWasReceived()
    {
        var missing = Assert.Throws<ArgumentException>(() => Layer.FromConfig("Dense", new Dictionary<string, object?> { ["name"] = "d" }));
        Assert.Contains("'units'", missing.Message);
        var invalid = Assert.Throws<ArgumentException>(() => Layer.FromConfig("Dense", new Dictionary<string, object?> { ["units"] = 2.5 }));
        Assert.Contains("'units'", invalid.Message);
        Assert.Contains("2.5", invalid.Message);
    }

    [Fact]
    public void FromConfig_RegularizerOfAWeightWithoutRules_NotSupported()
    {
        var config = new Conv1D(4, 3).GetConfig();
        config["recurrent_regularizer"] = new Dictionary<string, object?> { ["class_name"] = "L2", ["config"] = new Dictionary<string, object?> { ["l2"] = 0.01 } };
        var e = Assert.Throws<NotSupportedException>(() => Layer.FromConfig("Conv1D", config));
        Assert.Contains("recurrent_regularizer", e.Message);
    }

    [Fact]
    public void FromConfig_KerasDTypePolicyAndTrainableFalse_Honoured()
    {
        var config = new Dictionary<string, object?>
        {
            ["units"] = 2L,
            ["trainable"] = false,
            ["dtype"] = new Dictionary<string, object?> { ["module"] = "keras", ["class_name"] = "DTypePolicy", ["config"] = new Dictionary<string, object?> { ["name"] = "float64" } },
            ["kernel_initializer"] = "he_uniform",
        };
        var layer = (Dense)Layer.FromConfig("Dense", config);
        Assert.Equal(ScalarType.Float64, layer.DType);
        Assert.False(layer.Trainable);
        Assert.IsType<HeUniform>(layer.KernelInitializer);
    }
}
