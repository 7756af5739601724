using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = TorchSharp.torch.Tensor;
using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;
using Activation = SeqSharp.Layers.Activation;
using Dropout = SeqSharp.Layers.Dropout;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Onnx;

/// <summary>
/// <see cref="Sequential.ExportOnnx"/>: each exported file runs in ONNX Runtime, at batch sizes 1 and
/// 5 from the same file (dynamic batch), and matches <c>Predict</c> to 1e-5.
/// </summary>
public class ExportOnnxTests(ITestOutputHelper output)
{
    private const int Steps = 6;
    private const int Features = 3;

    /// <summary>One model per layer kind and option, with non-trivial weights.</summary>
    public static TheoryData<string, Func<Sequential>> Models => new()
    {
        { "Dense relu, rank 2", () => Model([new Dense(4, activation: "relu", inputShape: [Features]), new Dense(2, activation: "softmax")]) },
        { "Dense on sequences (TimeDistributed), gelu/selu/swish", () => Model([new Dense(4, activation: "gelu", inputShape: [Steps, Features]), new Dense(3, activation: "selu"), new Dense(2, activation: "swish")]) },
        { "SimpleRNN last", () => Model([new SimpleRNN(5, inputShape: [Steps, Features]), new Dense(1)]) },
        { "SimpleRNN sequences relu", () => Model([new SimpleRNN(5, activation: "relu", returnSequences: true, inputShape: [Steps, Features])]) },
        { "SimpleRNN goBackwards sequences", () => Model([new SimpleRNN(4, goBackwards: true, returnSequences: true, inputShape: [Steps, Features])]) },
        { "LSTM last", () => Model([new LSTM(5, inputShape: [Steps, Features]), new Dense(1)]) },
        { "LSTM sequences", () => Model([new LSTM(5, returnSequences: true, inputShape: [Steps, Features]), new Dense(2)]) },
        { "LSTM peepholes", () => Model([new LSTM(4, usePeepholes: true, returnSequences: true, inputShape: [Steps, Features])]) },
        { "LSTM relu, hard_sigmoid gates, no bias", () => Model([new LSTM(4, activation: "relu", recurrentActivation: "hard_sigmoid", useBias: false, returnSequences: true, inputShape: [Steps, Features])]) },
        { "LSTM goBackwards sequences", () => Model([new LSTM(4, goBackwards: true, returnSequences: true, inputShape: [Steps, Features])]) },
        { "LSTM goBackwards last", () => Model([new LSTM(4, goBackwards: true, inputShape: [Steps, Features])]) },
        { "LSTM linear and elu", () => Model([new LSTM(3, activation: "linear", recurrentActivation: "sigmoid", returnSequences: true, inputShape: [Steps, Features]), new LSTM(3, activation: "elu")]) },
        { "GRU resetAfter", () => Model([new GRU(5, returnSequences: true, inputShape: [Steps, Features])]) },
        { "GRU resetAfter false", () => Model([new GRU(5, resetAfter: false, inputShape: [Steps, Features])]) },
        { "GRU goBackwards sequences, softsign", () => Model([new GRU(4, activation: "softsign", goBackwards: true, returnSequences: true, inputShape: [Steps, Features])]) },
        { "Stacked with Dropout", () => Model([new LSTM(4, returnSequences: true, inputShape: [Steps, Features]), new Dropout(0.3), new SpatialDropout1D(0.2), new GaussianNoise(0.1), new GRU(3), new Dense(1)]) },
        { "Activation, Flatten, Reshape", () => Model([new InputLayer([Steps, Features]), new Activation("tanh"), new Flatten(), new Reshape([3, -1]), new Dense(2)]) },
        { "TimeDistributed(Dense)", () => Model([new LSTM(4, returnSequences: true, inputShape: [Steps, Features]), new TimeDistributed(new Dense(2, activation: "tanh"))]) },
        { "RepeatVector, Permute", () => Model([new Dense(4, inputShape: [Features]), new RepeatVector(Steps), new LSTM(3, returnSequences: true), new Permute([2, 1])]) },
        // ONNX Runtime 1.31 has float64 kernels for MatMul and the activations, none for RNN, LSTM, GRU
        // (it says "LSTM operator does not support double yet"): a float64 model with them exports, but runs elsewhere.
        { "float64 Dense", () => Model([new Dense(4, activation: "tanh", inputShape: [Steps, Features], dtype: ScalarType.Float64), new Dense(1, dtype: ScalarType.Float64)]) },
    };

    private static Sequential Model(Layer[] layers)
    {
        manual_seed(60);
        var model = new Sequential(layers);
        using (no_grad())
        {
            foreach (var w in model.Layers.SelectMany(l => l.Weights))
                w.add_(randn_like(w) * 0.3);
        }
        return model;
    }

    /// <summary>Runs the file in ONNX Runtime on <paramref name="x"/> (float32, float64, or int64 token ids).</summary>
    internal static Tensor RunOnnx(string path, Tensor x)
    {
        // One thread that does not spin: ONNX Runtime's default pool busy-waits on the machine's two
        // cores and slows the tests that run after these ones.
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        options.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        using var session = new InferenceSession(path, options);
        var dims = x.shape.Select(d => (int)d).ToArray();
        using var contiguous = x.contiguous();
        NamedOnnxValue input = x.dtype switch
        {
            ScalarType.Float64 => NamedOnnxValue.CreateFromTensor("input", new DenseTensor<double>(contiguous.data<double>().ToArray(), dims)),
            ScalarType.Int64 => NamedOnnxValue.CreateFromTensor("input", new DenseTensor<long>(contiguous.data<long>().ToArray(), dims)),
            _ => NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(contiguous.data<float>().ToArray(), dims)),
        };
        using var results = session.Run([input]);
        var result = results.Single(r => r.Name == "output");
        return result.ElementType == TensorElementType.Double
            ? tensor(result.AsTensor<double>().ToArray(), result.AsTensor<double>().Dimensions.ToArray().Select(d => (long)d).ToArray())
            : tensor(result.AsTensor<float>().ToArray(), result.AsTensor<float>().Dimensions.ToArray().Select(d => (long)d).ToArray());
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ExportOnnx_RunInOnnxRuntime_MatchesPredictAtBatchSizes1And5(string kind, Func<Sequential> make)
    {
        using var folder = new TempFolder();
        var path = folder.File("model.onnx");
        var model = make();
        model.ExportOnnx(path);

        double worst = 0;
        foreach (int batch in new[] { 1, 5 })
        {
            manual_seed(61 + batch);
            var x = randn([batch, .. model.InputShape!], dtype: model.Layers[0].DType);
            var expected = model.Predict(x, verbose: 0);
            var actual = RunOnnx(path, x).to_type(ScalarType.Float32);
            Assert.Equal(expected.shape, actual.shape);
            worst = Math.Max(worst, (expected - actual).abs().max().item<float>());
            TensorAssert.Close(expected, actual, atol: 1e-5, what: $"{kind}, batch {batch}");
        }
        output.WriteLine($"ONNX max |difference| for {kind}: {worst:E2}");
    }

    [Fact]
    public void ExportOnnx_GoBackwardsSequence_IsInKerasProcessingOrderNotOnnxTimeOrder()
    {
        // The reason for the flip after ONNX's reverse run: without it, step 0 of the output would be
        // the state after the whole sequence instead of after the last input step only.
        using var folder = new TempFolder();
        var path = folder.File("model.onnx");
        var model = Model([new SimpleRNN(2, goBackwards: true, returnSequences: true, inputShape: [Steps, Features])]);
        model.ExportOnnx(path);
        var x = randn(2, Steps, Features);
        var ours = model.Predict(x, verbose: 0);
        var onnx = RunOnnx(path, x);
        var lastStepOnly = ((SimpleRNN)model.Layers[0]).Call(x.narrow(1, Steps - 1, 1)).select(1, 0);
        TensorAssert.Close(lastStepOnly, onnx.select(1, 0), atol: 1e-5, what: "first output of a backwards run = after the last input step");
        TensorAssert.Close(ours, onnx, atol: 1e-5, what: "whole sequence");
    }

    [Fact]
    public void ExportOnnx_Opsets14To21_AllRun()
    {
        using var folder = new TempFolder();
        var model = Model([new GRU(3, returnSequences: true, inputShape: [Steps, Features]), new LSTM(2, usePeepholes: true)]);
        var x = randn(3, Steps, Features);
        var expected = model.Predict(x, verbose: 0);
        foreach (int opset in new[] { 14, 17, 21 })
        {
            var path = folder.File($"m{opset}.onnx");
            model.ExportOnnx(path, opset);
            TensorAssert.Close(expected, RunOnnx(path, x), atol: 1e-5, what: $"opset {opset}");
        }
    }

    [Fact]
    public void ExportOnnx_UnsupportedLayerOptionOrActivation_RefusedNamingIt()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.onnx");
        var lambda = Model([new Dense(2, inputShape: [3]), new Lambda(x => x * 2, functionName: "twice", name: "twice")]);
        Assert.Contains("Layer 'twice' of type Lambda cannot be exported to ONNX: its C# function has no ONNX form", Assert.Throws<NotSupportedException>(() => lambda.ExportOnnx(path)).Message);
        var stateful = Model([new LSTM(2, stateful: true, batchSize: 2, inputShape: [Steps, Features], name: "carry")]);
        Assert.Contains("'carry' of type LSTM is stateful; an ONNX graph has no state carried between calls", Assert.Throws<NotSupportedException>(() => stateful.ExportOnnx(path)).Message);
        var statefulBidirectional = Model([new Bidirectional(new GRU(2, stateful: true, batchSize: 2), inputShape: [Steps, Features], name: "both")]);
        Assert.Contains("'both' of type Bidirectional is stateful", Assert.Throws<NotSupportedException>(() => statefulBidirectional.ExportOnnx(path)).Message);
        var selu = Model([new GRU(2, activation: "selu", inputShape: [Steps, Features], name: "g")]);
        Assert.Contains("activation 'selu'", Assert.Throws<NotSupportedException>(() => selu.ExportOnnx(path)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => lambda.ExportOnnx(path, opset: 13));
        Assert.Throws<InvalidOperationException>(() => new Sequential([new Dense(2)]).ExportOnnx(path));
        Assert.Empty(Directory.GetFiles(folder.Path));
    }
}
