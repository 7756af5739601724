using System.Text.Json;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Saving;

/// <summary>
/// Real model files written by Keras (tf.keras 2.x and Keras 2 <c>.h5</c>, Keras 3 <c>.keras</c> and
/// Keras 3 <c>.h5</c>), taken from public repositories (Fixtures/keras-corpus/README.md gives each
/// file's repository, path, commit and license). Each file's expected output was computed by
/// tests/reference/keras_reference.py, an independent float64 implementation of the layers'
/// equations on h5py and numpy, and committed beside it; the suite needs no Python.
/// </summary>
/// <remarks>
/// Tolerance 1e-5 absolute: the reference is float64, the loaded model float32. Float32 rounding
/// (relative 6e-8 per operation) accumulates over the time steps and layers to at most 3.2e-6 on these
/// models' outputs (sunspot's, near 19; the others below 4e-7), while any wrong formula, gate order or
/// weight layout gives differences of 1e-3 or more.
/// </remarks>
public class KerasCorpusTests
{
    public static TheoryData<string> Files() =>
    [
        "temp4cast_gru.keras", "temp4cast_lstm.keras", "temp4cast_simplernn.keras",
        "lstm_multi_keras2.3.h5", "nlp_embedding_lstm_keras2.1.h5", "birthrate_bilstm.h5", "battery_soh_gru.h5",
        "amazon_stock_lstm_keras3.4.keras", "espresso_chatbot_lstm_keras3.1.keras", "building_energy_lstm_keras3.3.keras",
    ];

    internal static (Tensor Input, Tensor Output, string KerasVersion) Expected(string file)
    {
        var name = Path.GetFileNameWithoutExtension(file) + ".expected.json";
        using var json = JsonDocument.Parse(File.ReadAllText(SharedFixtures.PathOf("keras-corpus/" + name)));
        var root = json.RootElement;
        static long[] Shape(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt64()).ToArray();
        static IEnumerable<double> Flat(JsonElement e) =>
            e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().SelectMany(Flat) : [e.GetDouble()];
        var input = tensor(Flat(root.GetProperty("input")).ToArray(), Shape(root.GetProperty("input_shape")), ScalarType.Float32);
        var output = tensor(Flat(root.GetProperty("output")).ToArray(), Shape(root.GetProperty("output_shape")), ScalarType.Float64);
        return (input, output, root.GetProperty("keras_version").GetString()!);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Load_RealKerasFile_PredictsTheFloat64Reference(string file)
    {
        var (input, output, _) = Expected(file);
        using var model = Sequential.Load(SharedFixtures.PathOf("keras-corpus/" + file), compile: false);

        var predicted = model.Predict(input, verbose: 0);

        double diff = TensorAssert.Close(output, predicted, atol: 1e-5, what: file);
        Console.WriteLine($"{file}: max |diff| {diff:E2}");
    }

    [Theory]
    // Keras 3.4.1: Adam, loss "mse", metrics ["mse", "r2_score"] as strings; shared_object_id on the dtype policies.
    [InlineData("amazon_stock_lstm_keras3.4.keras", "3.4.1", "Adam", "mean_squared_error")]
    // Keras 3.1.1: the optimizer as the string "adam", categorical_crossentropy, ["accuracy"].
    [InlineData("espresso_chatbot_lstm_keras3.1.keras", "3.1.1", "Adam", "categorical_crossentropy")]
    // Keras 3.3.3: a compile_config without "optimizer" (Keras's compile(**config) then takes its default,
    // rmsprop), and the file's optimizer state has RMSprop's layout (one slot per variable), which loads into it.
    [InlineData("building_energy_lstm_keras3.3.keras", "3.3.3", "RMSprop", "mean_squared_error")]
    public void Load_Keras30To34File_WithItsCompileSettings_CompiledAsKerasDoes(string file, string version, string optimizer, string loss)
    {
        var (input, output, kerasVersion) = Expected(file);
        Assert.Equal(version, kerasVersion);
        using var model = Sequential.Load(SharedFixtures.PathOf("keras-corpus/" + file));

        Assert.True(model.Compiled);
        Assert.Equal(optimizer, model.Optimizer!.GetType().Name);
        Assert.Equal(loss, model.Loss!.Name);
        TensorAssert.Close(output, model.Predict(input, verbose: 0), atol: 1e-5, what: file + " (compiled)");
    }

    [Fact]
    public void Load_Keras21HardSigmoid_UsesKeras2Formula()
    {
        // Keras 2.1.2's LSTM with recurrent_activation "hard_sigmoid": clip(0.2x + 0.5, 0, 1) there.
        var (input, output, version) = Expected("nlp_embedding_lstm_keras2.1.h5");
        Assert.Equal("2.1.2", version);
        using var model = Sequential.Load(SharedFixtures.PathOf("keras-corpus/nlp_embedding_lstm_keras2.1.h5"), compile: false);
        var lstm = Assert.IsType<SeqSharp.Layers.LSTM>(model.Layers[2]);
        Assert.Equal("hard_sigmoid_keras2", lstm.GetConfig()["recurrent_activation"]);
        TensorAssert.Close(output, model.Predict(input, verbose: 0), atol: 1e-5, what: "Keras 2.1 model");

        // Keras 3's formula, x / 6 + 0.5, is far off on the same weights (what Keras 3 itself predicts for this file).
        var keras3 = new Sequential([
            new SeqSharp.Layers.Embedding(100, 32, inputShape: [17]),
            new SeqSharp.Layers.LSTM(64, recurrentActivation: "hard_sigmoid"),
            new SeqSharp.Layers.Dense(4, activation: "softmax"),
        ]);
        keras3.SetWeights(model.GetWeights());
        var wrong = (keras3.Predict(input, verbose: 0).to_type(ScalarType.Float64) - output).abs().max().item<double>();
        Assert.True(wrong > 1e-2, $"Keras 3's hard_sigmoid should give other outputs; max difference {wrong:E2}.");
    }

    [Fact]
    public void Load_OpenTimeAxis_PredictsAsKerasOnAnyLength_LoadWeightsIntoFixedShapeMatchesToo()
    {
        // tf.keras 2.14: Conv1D(64, 3, causal, relu) -> LSTM(128) -> LSTM(64) -> LSTM(64) -> Dense(30) -> Dense(10) -> Dense(1),
        // declared with batch_input_shape [null, null, 1] (any number of time steps).
        var path = SharedFixtures.PathOf("keras-corpus/sunspot_conv1d_lstm.h5");
        var (input, output, _) = Expected("sunspot_conv1d_lstm.h5");
        var loaded = Sequential.Load(path, compile: false);
        Assert.Equal([-1L, 1L], loaded.InputShape!);
        double diff = TensorAssert.Close(output, loaded.Predict(input, verbose: 0), atol: 1e-5, what: "sunspot model (Load)");
        Console.WriteLine($"sunspot_conv1d_lstm.h5 (Load, None time axis): max |diff| {diff:E2}");
        // The same model takes a shorter window: as many outputs as windows, one per sample.
        var shorter = loaded.Predict(input[.., ..(int)(input.shape[1] / 2)], verbose: 0);
        Assert.Equal([input.shape[0], 1L], shorter.shape);

        var model = new Sequential([
            new SeqSharp.Layers.Conv1D(64, 3, padding: "causal", activation: "relu", inputShape: [input.shape[1], 1]),
            new SeqSharp.Layers.LSTM(128, returnSequences: true),
            new SeqSharp.Layers.LSTM(64, returnSequences: true),
            new SeqSharp.Layers.LSTM(64),
            new SeqSharp.Layers.Dense(30, activation: "relu"),
            new SeqSharp.Layers.Dense(10, activation: "relu"),
            new SeqSharp.Layers.Dense(1),
        ]);
        model.LoadWeights(path);
        TensorAssert.Close(output, model.Predict(input, verbose: 0), atol: 1e-5, what: "sunspot model (LoadWeights)");
    }

    [Fact]
    public void Load_Regularizer_ReadsTheL2Penalty_PredictsAsKeras_LoadWeightsIntoSameLayersToo()
    {
        // Keras 3.5: Conv1D(8, 2, strides 4, causal) -> Conv1D(4, 2) -> Dropout -> GlobalAveragePooling1D -> Dense(1),
        // both Conv1D with kernel_regularizer L2(0.05).
        var path = SharedFixtures.PathOf("keras-corpus/conv1d_experiment.keras");
        var (input, output, _) = Expected("conv1d_experiment.keras");
        var loaded = Sequential.Load(path, compile: false);
        var conv = Assert.IsType<SeqSharp.Layers.Conv1D>(loaded.Layers.First(l => l is SeqSharp.Layers.Conv1D));
        Assert.Equal(0.05, Assert.IsType<SeqSharp.Regularizers.L2>(conv.WeightRegularizers["kernel"]).Factor, 6);
        double loadedDiff = TensorAssert.Close(output, loaded.Predict(input, verbose: 0), atol: 1e-5, what: "conv1d model (Load)");

        var model = new Sequential([
            new SeqSharp.Layers.Conv1D(8, 2, strides: 4, padding: "causal", activation: "relu", inputShape: [5, 11]),
            new SeqSharp.Layers.Conv1D(4, 2, activation: "relu"),
            new SeqSharp.Layers.Dropout(0.2),
            new SeqSharp.Layers.GlobalAveragePooling1D(),
            new SeqSharp.Layers.Dense(1),
        ]);
        model.LoadWeights(path);

        double diff = TensorAssert.Close(output, model.Predict(input, verbose: 0), atol: 1e-5, what: "conv1d model");
        Console.WriteLine($"conv1d_experiment.keras: max |diff| {loadedDiff:E2} (Load), {diff:E2} (LoadWeights)");
    }

    [Theory]
    [InlineData("strings_vlen_utf8.h5")]
    [InlineData("strings_fixed_ascii.h5")]
    [InlineData("strings_mixed.h5")]
    public void Load_EveryH5pyStringLayout_ReadsNamesAndWeights(string file)
    {
        // Written by h5py (tests/reference/make_string_fixtures.py): variable- and fixed-length strings,
        // ASCII- and UTF-8-flagged, scalars and arrays, weight_names split into weight_names0/1, and
        // a model name with non-ASCII letters (UTF-8 in model_config).
        var (input, output, _) = Expected(file);
        using var model = Sequential.Load(SharedFixtures.PathOf("keras-corpus/" + file));

        Assert.Equal("s\u00e9quentiel_\u00fc", model.Name);
        Assert.Equal(["lstm_uber", "dense_ete"], model.Layers.Select(l => l.Name));
        TensorAssert.Close(output, model.Predict(input, verbose: 0), atol: 1e-5, what: file);
    }
}

