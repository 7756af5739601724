using SeqSharp.Layers;
using SeqSharp.Onnx;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;
using Activation = SeqSharp.Layers.Activation;
using Dropout = SeqSharp.Layers.Dropout;
using Embedding = SeqSharp.Layers.Embedding;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Onnx;

/// <summary>
/// ONNX export of every layer kind beyond the first set (<see cref="ExportOnnxTests"/>): convolution,
/// pooling, embeddings and masks, Bidirectional, TimeDistributed of any layer, normalization. Each
/// file runs in ONNX Runtime at batch sizes 1 and 5 and, where the model takes any number of steps,
/// at other lengths too, and matches <c>Predict</c> to 1e-5.
/// </summary>
public class ExportOnnxLayerTests(ITestOutputHelper output)
{
    private const int Steps = 7;
    private const int Features = 3;
    private const int Vocabulary = 10;

    /// <summary>What the model takes: float sequences, float sequences with masked (all-zero) steps, or token ids with padding (0).</summary>
    public enum Input { Float, MaskedFloat, Ids }

    public static TheoryData<string, Input, Func<Sequential>> Models => new()
    {
        { "Conv1D valid relu + MaxPooling1D", Input.Float, () => Model([new Conv1D(4, 3, activation: "relu", inputShape: [Steps, Features]), new MaxPooling1D(2)]) },
        { "Conv1D same stride 2", Input.Float, () => Model([new Conv1D(4, 3, strides: 2, padding: "same", inputShape: [Steps, Features])]) },
        { "Conv1D same stride 1 even kernel, tanh", Input.Float, () => Model([new Conv1D(2, 4, padding: "same", activation: "tanh", inputShape: [Steps, Features])]) },
        { "Conv1D causal dilation 2 no bias", Input.Float, () => Model([new Conv1D(3, 2, padding: "causal", dilationRate: 2, useBias: false, inputShape: [Steps, Features])]) },
        { "Conv1D + MaxPooling1D + LSTM + Dense (CnnLstmForecast)", Input.Float, () => Model([new Conv1D(8, 3, padding: "causal", activation: "relu", inputShape: [Steps, 2]), new MaxPooling1D(2), new LSTM(5), new Dense(3)]) },
        { "MaxPooling1D same pool 3 stride 2", Input.Float, () => Model([new MaxPooling1D(3, strides: 2, padding: "same", inputShape: [Steps, Features])]) },
        { "AveragePooling1D same pool 3 stride 1", Input.Float, () => Model([new AveragePooling1D(3, strides: 1, padding: "same", inputShape: [Steps, Features])]) },
        { "AveragePooling1D valid, same stride 2", Input.Float, () => Model([new AveragePooling1D(2, inputShape: [Steps, Features]), new AveragePooling1D(2, padding: "same")]) },
        { "GlobalAveragePooling1D", Input.Float, () => Model([new Conv1D(4, 2, inputShape: [Steps, Features]), new GlobalAveragePooling1D(), new Dense(1)]) },
        { "GlobalMaxPooling1D keepdims", Input.Float, () => Model([new GlobalMaxPooling1D(keepdims: true, inputShape: [Steps, Features])]) },
        { "Embedding (no mask) + GRU sequences", Input.Ids, () => Model([new Embedding(Vocabulary, 4, inputShape: [Steps]), new GRU(3, returnSequences: true)]) },
        { "Embedding maskZero + LSTM", Input.Ids, () => Model([new Embedding(Vocabulary, 4, maskZero: true, inputShape: [Steps]), new LSTM(5), new Dense(1, activation: "sigmoid")]) },
        { "Embedding maskZero + LSTM sequences + Dense", Input.Ids, () => Model([new Embedding(Vocabulary, 4, maskZero: true, inputShape: [Steps]), new LSTM(3, returnSequences: true), new Dense(2)]) },
        { "Embedding maskZero + GRU resetAfter false, goBackwards sequences", Input.Ids, () => Model([new Embedding(Vocabulary, 4, maskZero: true, inputShape: [Steps]), new GRU(3, resetAfter: false, goBackwards: true, returnSequences: true)]) },
        { "Embedding maskZero + GlobalAveragePooling1D", Input.Ids, () => Model([new Embedding(Vocabulary, 4, maskZero: true, inputShape: [Steps]), new Dense(3), new GlobalAveragePooling1D()]) },
        { "Embedding maskZero + Bidirectional(LSTM) (SentimentLstm)", Input.Ids, () => Model([new Embedding(Vocabulary, 4, maskZero: true, inputShape: [Steps]), new Bidirectional(new LSTM(3)), new Dense(1, activation: "sigmoid")]) },
        { "Embedding maskZero + Bidirectional(GRU) sum sequences", Input.Ids, () => Model([new Embedding(Vocabulary, 4, maskZero: true, inputShape: [Steps]), new Bidirectional(new GRU(3, returnSequences: true), mergeMode: "sum")]) },
        { "Masking + SimpleRNN sequences", Input.MaskedFloat, () => Model([new Masking(inputShape: [Steps, Features]), new SimpleRNN(4, returnSequences: true)]) },
        { "Masking + LSTM goBackwards, peepholes", Input.MaskedFloat, () => Model([new Masking(inputShape: [Steps, Features]), new LSTM(4, goBackwards: true, usePeepholes: true)]) },
        { "Masking + LSTM zeroOutputForMask sequences + LSTM", Input.MaskedFloat, () => Model([new Masking(inputShape: [Steps, Features]), new LSTM(3, returnSequences: true, zeroOutputForMask: true), new LSTM(2)]) },
        { "Masking + GRU resetAfter true", Input.MaskedFloat, () => Model([new Masking(inputShape: [Steps, Features]), new Dropout(0.2), new GRU(4)]) },
        { "Masking + Bidirectional(SimpleRNN) ave sequences", Input.MaskedFloat, () => Model([new Masking(inputShape: [Steps, Features]), new Bidirectional(new SimpleRNN(3, returnSequences: true), mergeMode: "ave")]) },
        { "Bidirectional(LSTM) concat sequences", Input.Float, () => Model([new Bidirectional(new LSTM(3, returnSequences: true), inputShape: [Steps, Features]), new Dense(1)]) },
        { "Bidirectional(GRU) mul last", Input.Float, () => Model([new Bidirectional(new GRU(3), mergeMode: "mul", inputShape: [Steps, Features])]) },
        { "TimeDistributed(Dense) (LstmAutoencoder)", Input.Float, () => Model([new LSTM(4, inputShape: [Steps, Features]), new RepeatVector(Steps), new LSTM(4, returnSequences: true), new TimeDistributed(new Dense(1))]) },
        { "TimeDistributed(Conv1D) on 4D", Input.Float, () => Model([new TimeDistributed(new Conv1D(2, 2, activation: "relu"), inputShape: [4, 5, Features]), new TimeDistributed(new GlobalMaxPooling1D())]) },
        { "LayerNormalization last axis", Input.Float, () => Model([new LSTM(4, returnSequences: true, inputShape: [Steps, Features]), new LayerNormalization(epsilon: 1e-3)]) },
        { "LayerNormalization axis 1 (time), no center", Input.Float, () => Model([new InputLayer([Steps, Features]), new LayerNormalization(axis: 1, center: false)]) },
        { "BatchNormalization", Input.Float, () => Model([new Conv1D(4, 2, inputShape: [Steps, Features]), new BatchNormalization(epsilon: 1e-2), new GRU(2)]) },
        { "BatchNormalization axis -2 (time), no scale", Input.Float, () => Model([new InputLayer([Steps, Features]), new BatchNormalization(axis: -2, scale: false)]) },
        { "Dense + Activation on sequences", Input.Float, () => Model([new Dense(4, inputShape: [Steps, Features]), new Activation("relu"), new SpatialDropout1D(0.1), new GaussianNoise(0.2), new SimpleRNN(2)]) },
    };

    /// <summary>The model with every weight moved off its initial value; variances kept positive.</summary>
    private static Sequential Model(Layer[] layers)
    {
        manual_seed(70);
        var model = new Sequential(layers);
        using (no_grad())
        {
            foreach (var layer in model.Layers)
            {
                foreach (var w in layer.Weights)
                    w.add_(randn_like(w) * 0.3);
                if (layer is BatchNormalization { MovingVariance: { } variance })
                    variance.uniform_(0.5, 1.5);
            }
        }
        return model;
    }

    /// <summary>
    /// Inputs whose masks are everything Keras allows: padding before (Keras's pad_sequences
    /// default), padding after, holes in the middle, a sample masked entirely, and none.
    /// </summary>
    internal static (Tensor ForOnnx, Tensor ForPredict) Make(Input input, int batch, long[] sampleShape, int seed)
    {
        manual_seed(seed);
        long steps = sampleShape[0];
        var keep = ones(batch, steps, dtype: ScalarType.Bool);
        for (int b = 0; b < batch; b++)
        {
            switch (b % 5)
            {
                case 0:                                                   // holes (batch 1 gets these)
                    foreach (long t in new[] { 1, 3, steps - 2 })
                        keep[b].narrow(0, t, 1).fill_(false);
                    break;
                case 1: keep[b].narrow(0, 0, 3).fill_(false); break;      // padding before
                case 2: keep[b].narrow(0, steps - 2, 2).fill_(false); break;   // padding after
                case 3: keep[b].fill_(false); break;                      // nothing left
            }
        }
        switch (input)
        {
            case Input.Ids:
            {
                var ids = randint(1, Vocabulary, [batch, steps], dtype: ScalarType.Int64) * keep.to_type(ScalarType.Int64);
                return (ids, ids.to_type(ScalarType.Float32));
            }
            case Input.MaskedFloat:
            {
                var x = randn([batch, .. sampleShape]) * keep.unsqueeze(-1).to_type(ScalarType.Float32);
                return (x, x);
            }
            default:
            {
                var x = randn([batch, .. sampleShape]);
                return (x, x);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ExportOnnx_RunInOnnxRuntime_MatchesPredictAtBatchSizesAndLengths(string kind, Input input, Func<Sequential> make)
    {
        using var folder = new TempFolder();
        var path = folder.File("model.onnx");
        var model = make();
        model.ExportOnnx(path);

        bool dynamicTime = OnnxExporter.DynamicTime(model);
        var lengths = dynamicTime ? new long[] { model.InputShape![0], model.InputShape[0] + 3, model.InputShape[0] - 1 } : [model.InputShape![0]];
        double worst = 0;
        foreach (long length in lengths)
        {
            foreach (int batch in new[] { 1, 5 })
            {
                var (forOnnx, forPredict) = Make(input, batch, [length, .. model.InputShape[1..]], 80 + batch + (int)length);
                var expected = model.Predict(forPredict, verbose: 0);
                var actual = ExportOnnxTests.RunOnnx(path, forOnnx).to_type(ScalarType.Float32);
                worst = Math.Max(worst, Compare(expected, actual, $"{kind}, batch {batch}, {length} steps"));
            }
        }
        output.WriteLine($"ONNX | {kind} | lengths {string.Join("/", lengths)} | max |difference| {worst:E1}");
    }

    /// <summary>
    /// The largest difference, after checking that NaNs are in the same places: a masked average over a
    /// sample with every step masked is 0/0, in Keras, in <c>Predict</c> and in the graph alike.
    /// </summary>
    internal static double Compare(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.isnan().eq(actual.isnan()).all().item<bool>(), $"{what}: NaNs in different places");
        expected = expected.nan_to_num(0);
        actual = actual.nan_to_num(0);
        TensorAssert.Close(expected, actual, atol: 1e-5, what: what);
        return (expected - actual).abs().max().item<float>();
    }

    [Fact]
    public void ExportOnnx_DynamicTime_DeclaredOnlyWhereTheModelAllowsIt()
    {
        Assert.True(OnnxExporter.DynamicTime(Model([new Conv1D(2, 3, inputShape: [Steps, Features]), new LSTM(2), new Dense(4), new RepeatVector(3), new Flatten()])));
        Assert.False(OnnxExporter.DynamicTime(Model([new LSTM(2, returnSequences: true, inputShape: [Steps, Features]), new Flatten(), new Dense(1)])));
        Assert.False(OnnxExporter.DynamicTime(Model([new Dense(2, inputShape: [Features])])));
        Assert.False(OnnxExporter.DynamicTime(Model([new LayerNormalization(axis: 1, inputShape: [Steps, Features])])));
        Assert.True(OnnxExporter.DynamicTime(Model([new LayerNormalization(inputShape: [Steps, Features])])));
        Assert.False(OnnxExporter.DynamicTime(Model([new InputLayer([Steps, Features]), new LSTM(2)])));
    }
}

/// <summary>Every example's model exports and runs in ONNX Runtime as it predicts here (issue 11, item 8).</summary>
public class ExportOnnxExampleTests(ITestOutputHelper output)
{
    public static TheoryData<string, ExportOnnxLayerTests.Input, Func<Sequential>> Examples => new()
    {
        { "CnnLstmForecast", ExportOnnxLayerTests.Input.Float, SeqSharp.Examples.CnnLstmForecast.ForecastExample.BuildModel },
        { "LstmAutoencoder", ExportOnnxLayerTests.Input.Float, SeqSharp.Examples.LstmAutoencoder.AutoencoderExample.BuildModel },
        { "SentimentLstm", ExportOnnxLayerTests.Input.Ids, () => SeqSharp.Examples.SentimentLstm.SentimentExample.BuildModel(10) },
        { "SentimentLstm bag of words", ExportOnnxLayerTests.Input.Ids, () => SeqSharp.Examples.SentimentLstm.SentimentExample.BuildBagOfWords(10) },
        { "AirlinePassengers", ExportOnnxLayerTests.Input.Float, () => SeqSharp.Examples.AirlinePassengers.AirlineExample.BuildModel(16) },
        { "LongRangeMemory LSTM", ExportOnnxLayerTests.Input.Float, () => SeqSharp.Examples.LongRangeMemory.LongRangeExample.BuildModel("LSTM", 8, 10) },
        { "LongRangeMemory SimpleRNN", ExportOnnxLayerTests.Input.Float, () => SeqSharp.Examples.LongRangeMemory.LongRangeExample.BuildModel("SimpleRNN", 8, 10) },
        // LstmSequence and SimpleRnnSequence are top-level programs (the reference document's two scripts); their models as written there:
        { "LstmSequence", ExportOnnxLayerTests.Input.Float, () => new Sequential([new LSTM(units: 64, inputShape: [10, 1], returnSequences: true), new Dense(1, activation: "linear")]) },
        { "SimpleRnnSequence", ExportOnnxLayerTests.Input.Float, () => new Sequential([new SimpleRNN(units: 64, inputShape: [10, 1], returnSequences: true), new Dense(1, activation: "linear")]) },
        { "JenaClimate (None time axis, GRU relu, recurrent dropout, L2)", ExportOnnxLayerTests.Input.Float, SeqSharp.Examples.JenaClimate.JenaExample.BuildModel },
        // The models the other examples build inline, as written there:
        { "CreditRisk LSTM", ExportOnnxLayerTests.Input.Float,
            () => new Sequential([new LSTM(16, inputShape: [SeqSharp.Examples.CreditRisk.CreditData.Months, SeqSharp.Examples.CreditRisk.CreditData.Features.Length]), new Dense(1, activation: "sigmoid")]) },
        { "CreditRisk logistic regression", ExportOnnxLayerTests.Input.Float,
            () => new Sequential([new Dense(1, activation: "sigmoid", inputShape: [SeqSharp.Examples.CreditRisk.HandFeatures.Names.Length])]) },
        { "SelfSupervised pretraining", ExportOnnxLayerTests.Input.Float, () => new Sequential([new LSTM(16, returnSequences: true, inputShape: [32, 2]), new Dense(1)]) },
        { "SelfSupervised classifier", ExportOnnxLayerTests.Input.Float,
            () => new Sequential([new LSTM(16, returnSequences: true, inputShape: [32, 2]), new GlobalAveragePooling1D(), new Dense(SeqSharp.Examples.SelfSupervised.WaveformData.Classes.Length, activation: "softmax")]) },
        { "DataParallel", ExportOnnxLayerTests.Input.Float, () => new Sequential([new LSTM(32, inputShape: [24, 3]), new Dense(1)]) },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public void ExportOnnx_ExampleModel_RunsAsPredictAtBatchSizes1And5(string example, ExportOnnxLayerTests.Input input, Func<Sequential> make)
    {
        using var folder = new TempFolder();
        var path = folder.File("model.onnx");
        manual_seed(90);
        var model = make();
        model.ExportOnnx(path);
        double worst = 0;
        foreach (int batch in new[] { 1, 5 })
        {
            // A None time axis (JenaClimate) gets a different length at each batch size, from the same file.
            var shape = model.InputShape!.Select(d => d == -1 ? (batch == 1 ? 8L : 13L) : d).ToArray();
            var (forOnnx, forPredict) = ExportOnnxLayerTests.Make(input, batch, shape, 91 + batch);
            var expected = model.Predict(forPredict, verbose: 0);
            var actual = ExportOnnxTests.RunOnnx(path, forOnnx);
            worst = Math.Max(worst, ExportOnnxLayerTests.Compare(expected, actual, $"{example}, batch {batch}"));
        }
        output.WriteLine($"ONNX example | {example} | max |difference| {worst:E1}");
    }
}
