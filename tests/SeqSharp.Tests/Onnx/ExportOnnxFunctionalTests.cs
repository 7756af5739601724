using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SeqSharp.Examples.AttentionForecast;
using SeqSharp.Examples.Seq2SeqReverse;
using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;
using Tensor = TorchSharp.torch.Tensor;
using Dropout = SeqSharp.Layers.Dropout;
using Embedding = SeqSharp.Layers.Embedding;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Onnx;

/// <summary>
/// <see cref="Model.ExportOnnx"/> of functional models: merge and attention layers, recurrent states
/// in and out, several inputs and outputs, shared layers, the functional examples' models. Each file
/// runs in ONNX Runtime at batch sizes 2 and 5 and, where an input has a None time axis, at 6 and 9
/// steps from the same file, and every output matches <c>PredictMulti</c> (itself tested against
/// references) to 1e-5. Masked inputs mix padding after, before, a hole and (at batch 5) a fully
/// masked sample.
/// </summary>
public class ExportOnnxFunctionalTests(ITestOutputHelper output)
{
    private const int Features = 3;
    private const int Vocabulary = 9;

    public static TheoryData<string, Func<Model>> Models => new()
    {
        { "Concatenate (features) of two inputs", () => Two((a, b) => new Concatenate().Apply([a, b]), 3, 2) },
        { "Concatenate axis 1 (time) of masked inputs into LSTM", () => Two((a, b) => new LSTM(3).Apply(new Concatenate(axis: 1).Apply([Masked(a), Masked(b)]))) },
        { "Add, masked, into LSTM sequences", () => MergeIntoLstm(new Add()) },
        { "Subtract, masked, into LSTM sequences", () => MergeIntoLstm(new Subtract()) },
        { "Multiply, masked, into LSTM sequences", () => MergeIntoLstm(new Multiply()) },
        { "Average, masked, into LSTM sequences", () => MergeIntoLstm(new Average()) },
        { "Maximum, masked, into LSTM sequences", () => MergeIntoLstm(new Maximum()) },
        { "Minimum, masked, into LSTM sequences", () => MergeIntoLstm(new Minimum()) },
        { "Multiply, Maximum, Minimum of three, one masked", () => Three() },
        { "Add of a sequence and a vector (lower rank broadcast)", () => Broadcast() },
        { "Dot axes [2, 2] (scores)", () => Two((a, b) => new Dot([2, 2]).Apply([a, b])) },
        { "Dot axes 1 normalize (cosine) of vectors", () => Vectors((a, b) => new Dot(1, normalize: true).Apply([a, b])) },
        { "Dot axes [1, 2] fixed shapes", () => Fixed() },
        { "Attention dot", () => Two((q, v) => new Attention().Apply([q, v])) },
        { "Attention useScale, causal, scores output", () => Scores(new Attention(useScale: true), causal: true) },
        { "Attention concat scale with key, masked", () => Keyed(new Attention(useScale: true, scoreMode: "concat")) },
        { "AdditiveAttention masked query and value", () => Two((q, v) => new AdditiveAttention().Apply([Masked(q), Masked(v)])) },
        { "AdditiveAttention no scale, causal, scores output", () => Scores(new AdditiveAttention(useScale: false), causal: true) },
        { "MultiHeadAttention self", () => One(x => new MultiHeadAttention(2, 4).Apply([x, x])) },
        { "MultiHeadAttention causal, scores output", () => Scores(new MultiHeadAttention(3, 2, valueDim: 3), causal: true) },
        { "MultiHeadAttention masked, key, outputShape [2, 3], no bias", () => Keyed(new MultiHeadAttention(2, 3, outputShape: [2, 3], useBias: false)) },
        { "Transformer block: MHA + Add + LayerNormalization + Dense", () => One(x => Block(x)) },
        { "LayerNormalization after Concatenate", () => Two((a, b) => new LayerNormalization().Apply(new Concatenate().Apply([a, b]))) },
        { "LSTM encoder-decoder (initialState, returnState)", () => EncoderDecoder((u, rs, st) => new LSTM(u, returnSequences: rs, returnState: st)) },
        { "GRU encoder-decoder (initialState, returnState)", () => EncoderDecoder((u, rs, st) => new GRU(u, returnSequences: rs, returnState: st)) },
        { "SimpleRNN goBackwards encoder-decoder", () => EncoderDecoder((u, rs, st) => new SimpleRNN(u, returnSequences: rs, returnState: st, goBackwards: !rs)) },
        { "Embedding maskZero decoder with initial states, states out", () => MaskedDecoder() },
        { "Bidirectional(LSTM) returnState, masked", () => One(x => new Bidirectional(new LSTM(3, returnSequences: true, returnState: true)).Apply(Masked(x)), all: true) },
        { "Bidirectional(GRU) returnState last", () => One(x => new Bidirectional(new GRU(3, returnState: true), mergeMode: "sum").Apply(x), all: true) },
        { "Multi-input: sequence + static features", () => SequenceAndStatic() },
        { "Shared LSTM on two inputs", () => Shared() },
    };

    private static Input Sequence(string name, long features = Features) => new([null, features], name);

    private static KerasTensor Masked(KerasTensor x) => new Masking().Apply(x);

    private static Model One(Func<KerasTensor, KerasTensor> body, bool all = false)
    {
        var x = Sequence("x");
        var y = body(x);
        return new Model(x, all ? y.Outputs : [y]);
    }

    private static Model Two(Func<KerasTensor, KerasTensor, KerasTensor> body, long featuresA = Features, long featuresB = Features)
    {
        var (a, b) = (Sequence("a", featuresA), Sequence("b", featuresB));
        return new Model([a, b], body(a, b).Outputs);
    }

    private static Model Vectors(Func<KerasTensor, KerasTensor, KerasTensor> body)
    {
        var (a, b) = (new Input([4], "a"), new Input([4], "b"));
        return new Model([a, b], body(a, b));
    }

    private static Model Fixed()
    {
        var (a, b) = (new Input([3, 5], "a"), new Input([4, 3], "b"));
        return new Model([a, b], new Dot([1, 2]).Apply([a, b]));
    }

    /// <summary>Both inputs masked, merged, then an LSTM that uses the merged mask: outputs the merge and the LSTM.</summary>
    private static Model MergeIntoLstm(Merge merge)
    {
        var (a, b) = (Sequence("a"), Sequence("b"));
        var merged = merge.Apply([Masked(a), Masked(b)]);
        return new Model([a, b], [merged, new LSTM(2, returnSequences: true).Apply(merged)]);
    }

    private static Model Three()
    {
        var (a, b, c) = (Sequence("a"), Sequence("b"), Sequence("c"));
        var masked = Masked(a);
        return new Model([a, b, c], [new Multiply().Apply([masked, b, c]), new Maximum().Apply([b, masked, c]), new Minimum().Apply([b, c, masked])]);
    }

    private static Model Broadcast()
    {
        var (a, b) = (Sequence("a"), new Input([Features], "b"));
        return new Model([a, b], new GRU(2).Apply(new Add().Apply([Masked(a), b])));
    }

    private static Model Scores(MultiInputLayer attention, bool causal)
    {
        var (q, v) = (Sequence("query"), Sequence("value"));
        var args = new Dictionary<string, object?> { ["use_causal_mask"] = causal, ["return_attention_scores"] = true };
        return new Model([q, v], attention.Apply([q, v], args).Outputs);
    }

    private static Model Keyed(MultiInputLayer attention)
    {
        var (q, v, k) = (Sequence("query"), Sequence("value", 2), Sequence("key"));
        return new Model([q, v, k], attention.Apply([Masked(q), Masked(v), Masked(k)]));
    }

    private static KerasTensor Block(KerasTensor x)
    {
        var attended = new MultiHeadAttention(2, 3).Apply([x, x], new Dictionary<string, object?> { ["use_causal_mask"] = true });
        var normalized = new LayerNormalization(epsilon: 1e-3).Apply(new Add().Apply([x, attended]));
        return new Dense(2, activation: "gelu").Apply(normalized);
    }

    /// <summary>Keras's seq2seq: the encoder's final states start the decoder; outputs the decoded sequence and the decoder's states.</summary>
    private static Model EncoderDecoder(Func<int, bool, bool, Rnn> make)
    {
        var (encoderInputs, decoderInputs) = (Sequence("encoder_inputs"), Sequence("decoder_inputs", 2));
        var encoded = make(4, false, true).Apply(encoderInputs).Outputs;
        var decoded = make(4, true, true).Apply(decoderInputs, initialState: encoded.Skip(1).ToList()).Outputs;
        return new Model([encoderInputs, decoderInputs], [new Dense(3, activation: "softmax").Apply(decoded[0]), .. decoded.Skip(1)]);
    }

    private static Model MaskedDecoder()
    {
        var ids = new Input([null], "tokens", dtype: ScalarType.Int64);
        var (h, c) = (new Input([4], "h"), new Input([4], "c"));
        var embedded = new Embedding(Vocabulary, 3, maskZero: true).Apply(ids);
        var decoded = new LSTM(4, returnSequences: true, returnState: true).Apply(embedded, initialState: [h, c]).Outputs;
        return new Model([ids, h, c], [new Dense(2).Apply(decoded[0]), decoded[1], decoded[2]]);
    }

    private static Model SequenceAndStatic()
    {
        var (sequence, features) = (Sequence("sequence"), new Input([2], "static"));
        var merged = new Concatenate().Apply([new LSTM(4).Apply(sequence), new Dense(3, activation: "relu").Apply(features)]);
        return new Model([sequence, features], [new Dense(1, name: "value").Apply(merged), new Dense(2, activation: "softmax", name: "class").Apply(merged)]);
    }

    private static Model Shared()
    {
        var (a, b) = (Sequence("a"), Sequence("b"));
        var lstm = new LSTM(4, name: "shared_lstm");
        return new Model([a, b], new Dense(1).Apply(new Subtract().Apply([lstm.Apply(a), lstm.Apply(b)])));
    }

    /// <summary>The model with every weight moved off its initial value (a fixed seed).</summary>
    private static Model Perturbed(Func<Model> make)
    {
        manual_seed(80);
        var model = make();
        using (no_grad())
        {
            foreach (var w in model.Layers.SelectMany(l => l.Weights))
                w.add_(randn_like(w) * 0.3);
        }
        return model;
    }

    /// <summary>
    /// Inputs for the model: token ids, or floats; in sequences, zero (masked) steps at the end or the
    /// start, holes, and a fully masked sample at batch 5 in the first input. Vectors (a static input,
    /// a state) stay random.
    /// </summary>
    internal static List<Tensor> Inputs(Model model, long batch, long steps, int seed)
    {
        manual_seed(seed);
        var inputs = new List<Tensor>();
        for (int i = 0; i < model.Inputs.Count; i++)
        {
            var input = model.Inputs[i];
            long[] shape = [batch, .. input.SampleShape.Select(d => d == -1 ? steps : d)];
            var x = input.DType == ScalarType.Int64 ? randint(1, Vocabulary, shape, dtype: ScalarType.Int64) : randn(shape, dtype: model.InputDType);
            if (input.SampleShape[0] == -1 || shape.Length == 3)
            {
                // Different steps in each input, so that merges of masked inputs see every combination.
                x[0, i % 2 == 0 ? TensorIndex.Slice(-2) : TensorIndex.Slice(0, 2)] = 0;
                x[1, 0] = 0;
                x[1, 2 + i] = 0;
                if (batch >= 5 && i == 0)
                    x[4] = 0;
            }
            inputs.Add(x);
        }
        return inputs;
    }

    /// <summary>Runs the file in ONNX Runtime with one value per graph input (by the model's input names); returns the outputs in order.</summary>
    internal static List<Tensor> RunOnnx(string path, Model model, IReadOnlyList<Tensor> inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        options.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        using var session = new InferenceSession(path, options);
        var values = new List<NamedOnnxValue>();
        for (int i = 0; i < inputs.Count; i++)
        {
            var name = model.Inputs[i].Name;
            using var x = inputs[i].contiguous();
            var dims = x.shape.Select(d => (int)d).ToArray();
            values.Add(session.InputMetadata[name].ElementDataType switch
            {
                TensorElementType.Int64 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(x.to_type(ScalarType.Int64).data<long>().ToArray(), dims)),
                TensorElementType.Double => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<double>(x.to_type(ScalarType.Float64).data<double>().ToArray(), dims)),
                _ => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(x.to_type(ScalarType.Float32).data<float>().ToArray(), dims)),
            });
        }
        using var results = session.Run(values);
        return session.OutputNames.Select(name =>
        {
            var result = results.Single(r => r.Name == name);
            var t = result.AsTensor<float>();
            return tensor(t.ToArray(), t.Dimensions.ToArray().Select(d => (long)d).ToArray());
        }).ToList();
    }

    /// <summary>Exports, runs in ONNX Runtime at two batch sizes (and two lengths where the time axis is None), compares with PredictMulti; returns the largest difference.</summary>
    internal static double CheckAgainstPredict(Model model, string path, string what, double atol = 1e-5)
    {
        model.ExportOnnx(path);
        bool dynamicTime = model.Inputs.Any(i => i.SampleShape.Contains(-1));
        double worst = 0;
        foreach (var (batch, steps) in dynamicTime ? new[] { (2L, 6L), (5L, 9L) } : [(2L, 6L), (5L, 6L)])
        {
            var inputs = Inputs(model, batch, steps, (int)(batch * 10 + steps));
            var expected = model.PredictMulti(inputs, verbose: 0);
            var actual = RunOnnx(path, model, inputs);
            Assert.Equal(expected.Count, actual.Count);
            for (int k = 0; k < expected.Count; k++)
            {
                Assert.Equal(expected[k].shape, actual[k].shape);
                worst = Math.Max(worst, (expected[k].to_type(ScalarType.Float32) - actual[k]).abs().max().item<float>());
                TensorAssert.Close(expected[k].to_type(ScalarType.Float32), actual[k], atol: atol, what: $"{what}, output {k}, batch {batch}, {steps} steps");
            }
        }
        return worst;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ExportOnnx_FunctionalModel_MatchesPredictMultiAtTwoBatchSizesAndLengths(string kind, Func<Model> make)
    {
        using var folder = new TempFolder();
        var worst = CheckAgainstPredict(Perturbed(make), folder.File("model.onnx"), kind);
        output.WriteLine($"ONNX max |difference| for {kind}: {worst:E2}");
    }

    [Fact]
    public void ExportOnnx_GraphInputsAndOutputs_CarryKerasNamesAndDynamicAxes()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.onnx");
        var model = Perturbed(() => Seq2SeqExample.BuildModels(4).Encoder);
        model.ExportOnnx(path);
        var proto = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var input = Assert.Single(proto.Graph.Input);
        Assert.Equal("encoder_inputs", input.Name);
        Assert.Equal(["batch", "time", ""], input.Type.TensorType.Shape.Dim.Select(d => d.DimParam));
        Assert.Equal(ReverseData.Vocabulary, input.Type.TensorType.Shape.Dim[2].DimValue);
        Assert.Equal(["encoder", "encoder_1"], proto.Graph.Output.Select(o => o.Name));   // state_h, state_c of layer 'encoder'
    }

    [Fact]
    public void ExportOnnx_SharedLayer_WritesItsWeightsOnce()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.onnx");
        var model = Perturbed(Shared);
        model.ExportOnnx(path);
        var proto = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        // ONNX's LSTM weights: W (1, 16, 3), R (1, 16, 4), B (1, 32): one of each although the LSTM runs twice.
        Assert.Equal(2, proto.Graph.Node.Count(n => n.OpType == "LSTM"));
        Assert.Single(proto.Graph.Initializer, t => t.Dims.SequenceEqual([1L, 16, 3]));
        Assert.Single(proto.Graph.Initializer, t => t.Dims.SequenceEqual([1L, 16, 4]));
        var lstmNodes = proto.Graph.Node.Where(n => n.OpType == "LSTM").ToList();
        Assert.Equal(lstmNodes[0].Input.Skip(1), lstmNodes[1].Input.Skip(1));
    }

    [Fact]
    public void ExportOnnx_Seq2SeqReverseModels_MatchPredict()
    {
        using var folder = new TempFolder();
        var models = Seq2SeqExample.BuildModels(8);
        manual_seed(81);
        using (no_grad())
        {
            foreach (var w in models.Training.Layers.SelectMany(l => l.Weights))
                w.add_(randn_like(w) * 0.3);
        }
        foreach (var (name, model) in new[] { ("training", models.Training), ("encoder", models.Encoder), ("decoder", models.Decoder) })
            output.WriteLine($"ONNX max |difference| for Seq2SeqReverse {name}: {CheckAgainstPredict(model, folder.File(name + ".onnx"), name):E2}");
    }

    [Fact]
    public void ExportOnnx_AttentionForecastModels_MatchPredict()
    {
        using var folder = new TempFolder();
        var models = AttentionForecastExample.BuildAttentionModel(8);
        manual_seed(82);
        using (no_grad())
        {
            foreach (var w in models.WithScores.Layers.SelectMany(l => l.Weights))
                w.add_(randn_like(w) * 0.3);
        }
        foreach (var (name, model) in new[] { ("forecaster", models.Forecaster), ("with scores", models.WithScores) })
            output.WriteLine($"ONNX max |difference| for AttentionForecast {name}: {CheckAgainstPredict(model, folder.File("m.onnx"), name):E2}");
    }

    [Fact]
    public void ExportOnnx_SequentialThroughModelReference_StillWritesInputAndOutput()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.onnx");
        Model model = new Sequential([new Dense(2, inputShape: [3])]);
        model.ExportOnnx(path);
        var proto = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.Equal("input", Assert.Single(proto.Graph.Input).Name);
        Assert.Equal("output", Assert.Single(proto.Graph.Output).Name);
    }

    [Fact]
    public void ExportOnnx_UnsupportedInGraph_RefusedNamingLayerAndOptionBeforeWriting()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.onnx");

        var x = Sequence("x");
        var fixedMask = new Dictionary<string, object?> { ["attention_mask"] = ones(2, 4, 4, dtype: ScalarType.Bool) };
        var withMask = new Model(x, new MultiHeadAttention(2, 2, name: "mha").Apply([x, x], fixedMask));
        var message = Assert.Throws<NotSupportedException>(() => withMask.ExportOnnx(path)).Message;
        Assert.Contains("Layer 'mha' of type MultiHeadAttention", message);
        Assert.Contains("'attention_mask'", message);

        var y = Sequence("y");
        var lambda = new Model(y, new Lambda(t => t * 2, functionName: "twice", name: "twice").Apply(new Dense(2).Apply(y)));
        Assert.Contains("Layer 'twice' of type Lambda", Assert.Throws<NotSupportedException>(() => lambda.ExportOnnx(path)).Message);

        var w = Sequence("w");
        var mixed = new Model(w, new Dense(1, name: "single").Apply(new Dense(2, dtype: ScalarType.Float64, name: "double").Apply(w)));
        message = Assert.Throws<NotSupportedException>(() => mixed.ExportOnnx(path)).Message;
        Assert.Contains("Layer 'single' of type Dense computes in Float32 while the model's first layer computes in Float64", message);

        Assert.Empty(Directory.GetFiles(folder.Path));
    }
}
