using System.Text.Json;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Saving;

/// <summary>
/// Real Keras functional model files (Keras 2 <c>Model</c> in legacy <c>.h5</c>, Keras 3 <c>Functional</c> in
/// <c>.keras</c>) from public repositories (Fixtures/keras-corpus/README.md gives each file's repository, path,
/// commit and license). Each file's expected outputs were computed by tests/reference/keras_reference.py, an
/// independent float64 reader on h5py and numpy that follows the graph's inbound nodes, and committed beside it.
/// </summary>
/// <remarks>
/// Tolerance 1e-4 absolute (float64 reference vs our float32): the seq2seq files have up to 641 input features and
/// 7 steps, the Keras 3 files 122 steps through Conv1D, BatchNormalization and two bidirectional LSTMs, and an
/// LSTM's 64 features through Keras's dot-product Attention over its own outputs. A wrong
/// initial state, gate order or <c>hard_sigmoid</c> formula moves the outputs by 1e-2 or more.
/// </remarks>
public class FunctionalCorpusTests
{
    public static TheoryData<string> Files() =>
    [
        "stockjockey_seq2seq_keras2.1.h5", "mt_seq2seq_keras2.2.h5", "chatbot_encoder_keras2.2.h5",
        "chatbot_decoder_keras2.2.h5", "ids_conv1d_bilstm.keras", "fraud_lstm_attention_keras3.13.keras",
    ];

    private sealed record Expected(List<Tensor> Inputs, List<Tensor> Outputs, string KerasVersion, string[] OutputNames);

    private static Expected Read(string file)
    {
        var name = Path.GetFileNameWithoutExtension(file) + ".expected.json";
        using var json = JsonDocument.Parse(File.ReadAllText(SharedFixtures.PathOf("keras-corpus/" + name)));
        var root = json.RootElement;
        Assert.Equal("Functional", root.GetProperty("class_name").GetString());
        static long[] Shape(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt64()).ToArray();
        static IEnumerable<double> Flat(JsonElement e) =>
            e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().SelectMany(Flat) : [e.GetDouble()];
        static List<Tensor> Tensors(JsonElement values, JsonElement shapes, ScalarType type) =>
            values.EnumerateArray().Zip(shapes.EnumerateArray())
                .Select(p => tensor(Flat(p.First).ToArray(), Shape(p.Second), type)).ToList();
        return new Expected(
            Tensors(root.GetProperty("inputs"), root.GetProperty("input_shapes"), ScalarType.Float32),
            Tensors(root.GetProperty("outputs"), root.GetProperty("output_shapes"), ScalarType.Float64),
            root.GetProperty("keras_version").GetString()!,
            root.GetProperty("output_names").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }

    private static string PathOf(string file) => SharedFixtures.PathOf("keras-corpus/" + file);

    [Theory]
    [MemberData(nameof(Files))]
    public void Load_RealKerasFunctionalFile_PredictsTheFloat64Reference(string file)
    {
        var expected = Read(file);
        using var model = Model.Load(PathOf(file), compile: false);

        Assert.Equal(expected.Inputs.Count, model.Inputs.Count);
        Assert.Equal(expected.Outputs.Count, model.Outputs.Count);
        var predicted = model.PredictMulti(expected.Inputs, verbose: 0);

        Assert.Equal(expected.Outputs.Count, predicted.Count);
        double worst = 0;
        for (int i = 0; i < predicted.Count; i++)
            worst = Math.Max(worst, TensorAssert.Close(expected.Outputs[i], predicted[i], atol: 1e-4, what: $"{file} output {expected.OutputNames[i]}"));
        Console.WriteLine($"{file} (Keras {expected.KerasVersion}): max |diff| {worst:E2}");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void SequentialLoad_RealKerasFunctionalFile_RefusesPointingToModelLoad(string file)
    {
        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(PathOf(file), compile: false));
        Assert.Contains("functional", e.Message);
        Assert.Contains("Model.Load", e.Message);
    }

    [Fact]
    public void Load_Keras2Seq2Seq_WithCompileConfig_LoadsAndPredictsTheSame()
    {
        // Keras 2.1.5's lstm_seq2seq example: compiled with rmsprop and categorical_crossentropy.
        var expected = Read("stockjockey_seq2seq_keras2.1.h5");
        using var model = Model.Load(PathOf("stockjockey_seq2seq_keras2.1.h5"));
        Assert.True(model.Compiled);
        var predicted = model.PredictMulti(expected.Inputs, verbose: 0);
        TensorAssert.Close(expected.Outputs[0], predicted[0], atol: 1e-4, what: "compiled seq2seq");
    }

    [Fact]
    public void Load_Keras2Seq2Seq_DecoderTakesTheEncoderStates_HardSigmoidIsKeras2s()
    {
        // The decoder LSTM's initial state is the encoder's [h, c]: with zero states instead, or with Keras 3's
        // hard_sigmoid, the outputs move far past the tolerance, so the test above can fail on either.
        var expected = Read("mt_seq2seq_keras2.2.h5");
        Assert.Equal("2.2.4", expected.KerasVersion);
        using var model = Model.Load(PathOf("mt_seq2seq_keras2.2.h5"), compile: false);
        var decoder = Assert.IsType<SeqSharp.Layers.LSTM>(model.Layers.Single(l => l.Name == "decoder_lstm"));
        Assert.Equal("hard_sigmoid_keras2", decoder.GetConfig()["recurrent_activation"]);

        using var decoderOnly = new SeqSharp.Layers.LSTM(40, returnSequences: true, recurrentActivation: "hard_sigmoid_keras2");
        var decoderInput = new Input(shape: [null, 50]);
        var dense = new SeqSharp.Layers.Dense(50, activation: "softmax");
        using var zeroStates = new Model(decoderInput, dense.Apply(decoderOnly.Apply(decoderInput)));
        decoderOnly.SetWeights(decoder.GetWeights());
        dense.SetWeights(model.Layers.Single(l => l.Name == "decoder_dense").GetWeights());
        var withoutStates = zeroStates.Predict(expected.Inputs[1], verbose: 0).to_type(ScalarType.Float64);
        double far = (withoutStates - expected.Outputs[0]).abs().max().item<double>();
        Assert.True(far > 1e-3, $"zero initial states should change the decoder's outputs; max difference {far:E2}.");
    }
}
