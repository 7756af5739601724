using PureHDF;
using SeqSharp.Layers;
using SeqSharp.Metrics;
using SeqSharp.Optimizers;
using SeqSharp.Tests.TestSupport;
using Dropout = SeqSharp.Layers.Dropout;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Saving;

/// <summary>
/// Keras 2's full-model <c>.h5</c> files, written here with PureHDF following Keras 2's
/// <c>hdf5_format.save_model_to_hdf5</c> (tf.keras 2.15): root attributes <c>model_config</c> and
/// <c>training_config</c> (JSON), <c>keras_version</c>, <c>backend</c>; <c>model_weights</c> with
/// <c>layer_names</c> and one group per layer whose <c>weight_names</c> list datasets such as
/// <c>lstm/lstm_cell/kernel:0</c>; <c>optimizer_weights</c>. Strings are fixed-length as h5py writes
/// Python bytes (PureHDF pads them with NUL and marks them UTF-8 rather than ASCII).
/// </summary>
public class LegacyH5Tests
{
    internal const string ModelConfig = """
        {"class_name": "Sequential", "config": {"name": "sequential_7", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 5, 3], "dtype": "float32", "sparse": false, "ragged": false, "name": "lstm_input"}},
          {"class_name": "LSTM", "config": {"name": "lstm", "trainable": true, "dtype": "float32", "batch_input_shape": [null, 5, 3], "return_sequences": true,
            "return_state": false, "go_backwards": false, "stateful": false, "unroll": false, "time_major": false, "units": 4, "activation": "tanh",
            "recurrent_activation": "sigmoid", "use_bias": true, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
            "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}},
            "unit_forget_bias": true, "kernel_regularizer": null, "recurrent_regularizer": null, "bias_regularizer": null, "activity_regularizer": null,
            "kernel_constraint": null, "recurrent_constraint": null, "bias_constraint": null, "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2}},
          {"class_name": "Dropout", "config": {"name": "dropout", "trainable": true, "dtype": "float32", "rate": 0.1, "noise_shape": null, "seed": null}},
          {"class_name": "GRU", "config": {"name": "gru", "trainable": true, "dtype": "float32", "return_sequences": false, "return_state": false,
            "go_backwards": true, "stateful": false, "unroll": false, "time_major": false, "units": 3, "activation": "tanh", "recurrent_activation": "sigmoid",
            "use_bias": true, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
            "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": null, "recurrent_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null,
            "recurrent_constraint": null, "bias_constraint": null, "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2, "reset_after": true}},
          {"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 2, "activation": "tanh", "use_bias": true,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}}]},
         "keras_version": "2.15.0", "backend": "tensorflow"}
        """;

    private const string TrainingConfig = """
        {"loss": "mse", "metrics": [[{"class_name": "MeanMetricWrapper", "config": {"name": "mae", "dtype": "float32", "fn": "mean_absolute_error"}}]],
         "weighted_metrics": null, "loss_weights": null, "optimizer_config": {"module": "keras.optimizers", "class_name": "Adam",
         "config": {"name": "Adam", "weight_decay": null, "clipnorm": null, "global_clipnorm": null, "clipvalue": null, "use_ema": false, "ema_momentum": 0.99,
         "ema_overwrite_frequency": null, "jit_compile": false, "is_legacy_optimizer": false, "learning_rate": 0.0020000000949949026,
         "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": false}, "registered_name": null}}
        """;

    /// <summary>The weights by layer: Keras's dataset names and values (LSTM: kernel, recurrent kernel, bias; GRU's bias (2, 9) for reset_after).</summary>
    private static List<(string Layer, string[] Names, Tensor[] Values)> Weights()
    {
        manual_seed(50);
        return
        [
            ("lstm", ["lstm/lstm_cell/kernel:0", "lstm/lstm_cell/recurrent_kernel:0", "lstm/lstm_cell/bias:0"],
                [randn(3, 16) * 0.4, randn(4, 16) * 0.4, randn(16) * 0.2]),
            ("dropout", [], []),
            ("gru", ["gru/gru_cell/kernel:0", "gru/gru_cell/recurrent_kernel:0", "gru/gru_cell/bias:0"],
                [randn(4, 9) * 0.4, randn(3, 9) * 0.4, randn(2, 9) * 0.2]),
            ("dense", ["dense/kernel:0", "dense/bias:0"], [randn(3, 2) * 0.5, randn(2) * 0.1]),
        ];
    }

    internal static void WriteLegacyFile(string path, string modelConfig = ModelConfig, string? trainingConfig = TrainingConfig)
    {
        var weights = Weights();
        var modelWeights = new H5Group
        {
            Attributes = new()
            {
                ["layer_names"] = weights.Select(w => w.Layer).ToArray(),
                ["backend"] = "tensorflow",
                ["keras_version"] = "2.15.0",
            },
        };
        foreach (var (layer, names, values) in weights.OrderBy(w => w.Layer, StringComparer.Ordinal))
        {
            // h5py writes an empty list of names as an empty float64 array.
            var group = new H5Group { Attributes = new() { ["weight_names"] = names.Length == 0 ? Array.Empty<double>() : names } };
            for (int i = 0; i < names.Length; i++)
            {
                var parts = names[i].Split('/');
                var parent = group;
                foreach (var part in parts[..^1])
                {
                    if (!parent.TryGetValue(part, out var child))
                        parent[part] = child = new H5Group();
                    parent = (H5Group)child;
                }
                var value = values[i].contiguous();
                parent[parts[^1]] = new H5Dataset(value.data<float>().ToArray(), fileDims: value.shape.Select(d => (ulong)d).ToArray());
            }
            modelWeights[layer] = group;
        }
        var attributes = new Dictionary<string, object>
        {
            ["backend"] = "tensorflow",
            ["keras_version"] = "2.15.0",
            ["model_config"] = modelConfig,
        };
        if (trainingConfig is not null)
            attributes["training_config"] = trainingConfig;
        var file = new H5File
        {
            Attributes = attributes,
            ["model_weights"] = modelWeights,
            ["optimizer_weights"] = new H5Group
            {
                Attributes = new() { ["weight_names"] = new[] { "iteration:0" } },
                ["iteration:0"] = new H5Dataset(12L),
            },
        };
        file.Write(path, new H5WriteOptions { DefaultStringLength = 8192 });
    }

    /// <summary>The same model written in SeqSharp by hand, with the same weights.</summary>
    private static Sequential ByHand()
    {
        var model = new Sequential([
            new LSTM(4, inputShape: [5, 3], returnSequences: true),
            new Dropout(0.1),
            new GRU(3, goBackwards: true),
            new Dense(2, activation: "tanh"),
        ]);
        model.SetWeights(Weights().SelectMany(w => w.Values).ToList());
        return model;
    }

    [Fact]
    public void Load_CuDnnLstm_RefusedNamingTheLayerAndTheWayOut()
    {
        using var folder = new TempFolder();
        var path = folder.File("cudnn.h5");
        WriteLegacyFile(path, ModelConfig.Replace("\"class_name\": \"LSTM\"", "\"class_name\": \"CuDNNLSTM\"", StringComparison.Ordinal));

        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));

        Assert.Contains("layer 'lstm' of type CuDNNLSTM is not supported", e.Message);
        Assert.Contains("_convert_rnn_weights", e.Message);
    }

    [Fact]
    public void LoadWeights_Keras2H5IntoOtherLayers_LayerCountMismatchAndModelUnchanged()
    {
        using var folder = new TempFolder();
        var path = folder.File("legacy.h5");
        WriteLegacyFile(path);
        var model = new Sequential([new LSTM(4, inputShape: [5, 3]), new Dense(2)]);
        var before = model.GetWeights().Select(w => w.clone()).ToList();

        var e = Assert.Throws<InvalidDataException>(() => model.LoadWeights(path));

        Assert.Contains("Layer count mismatch", e.Message);
        Assert.Contains("found 3 saved layers (lstm, gru, dense)", e.Message);
        TinyModels.AssertSameWeights(before, model.GetWeights().ToList());
    }

    [Fact]
    public void LoadWeights_Keras2H5_ReadsModelWeightsByPosition()
    {
        using var folder = new TempFolder();
        var path = folder.File("legacy.h5");
        WriteLegacyFile(path);
        // Other layer names than the file's: Keras's load_weights matches by position, not by name.
        var model = new Sequential([
            new LSTM(4, inputShape: [5, 3], returnSequences: true, name: "first"),
            new GRU(3, goBackwards: true, name: "second"),
            new Dense(2, activation: "tanh", name: "third"),
        ]);

        model.LoadWeights(path);

        manual_seed(51);
        var x = randn(7, 5, 3);
        TensorAssert.Close(ByHand().Predict(x, verbose: 0), model.Predict(x, verbose: 0), atol: 0, what: "weights read by position");
    }

    [Fact]
    public void Load_Keras2H5_PredictsAsTheSameModelBuiltByHand()
    {
        using var folder = new TempFolder();
        var path = folder.File("legacy.h5");
        WriteLegacyFile(path);

        var loaded = Sequential.Load(path);

        Assert.Equal("sequential_7", loaded.Name);
        // As Keras 2's model.layers: the InputLayer Keras made from the LSTM's batch_input_shape is folded back into it.
        Assert.Equal(["lstm", "dropout", "gru", "dense"], loaded.Layers.Select(l => l.Name));
        Assert.Equal(new long[] { 5, 3 }, loaded.Layers[0].InputShape);
        Assert.True(Assert.IsType<GRU>(loaded.Layers[2]).GoBackwards);
        manual_seed(51);
        var x = randn(7, 5, 3);
        TensorAssert.Close(ByHand().Predict(x, verbose: 0), loaded.Predict(x, verbose: 0), atol: 0, what: "legacy model output");
    }

    [Fact]
    public void Load_Keras2H5_CompilesFromTheTrainingConfig()
    {
        using var folder = new TempFolder();
        var path = folder.File("legacy.h5");
        WriteLegacyFile(path);

        var loaded = Sequential.Load(path);

        var adam = Assert.IsType<Adam>(loaded.Optimizer);
        Assert.Equal(0.0020000000949949026, adam.LearningRate);
        Assert.Equal("Adam", adam.Name);
        Assert.IsType<SeqSharp.Losses.MeanSquaredError>(loaded.Loss);
        var mae = Assert.IsType<MeanMetricWrapper>(Assert.Single(loaded.Metrics));
        Assert.Equal(("mae", "mean_absolute_error"), (mae.Name, mae.FunctionName));
        Assert.False(Sequential.Load(path, compile: false).Compiled);
    }

    [Fact]
    public void Load_Keras2H5WithoutTrainingConfig_Uncompiled()
    {
        using var folder = new TempFolder();
        var path = folder.File("legacy.h5");
        WriteLegacyFile(path, trainingConfig: null);
        Assert.False(Sequential.Load(path).Compiled);
    }

    [Fact]
    public void Load_Keras2H5WithUnsupportedLayerOrOption_NamesThem()
    {
        using var folder = new TempFolder();
        var conv = folder.File("conv.h5");
        WriteLegacyFile(conv, ModelConfig.Replace("\"class_name\": \"GRU\"", "\"class_name\": \"Conv2D\""));
        var timeMajor = folder.File("time_major.h5");
        WriteLegacyFile(timeMajor, ModelConfig.Replace("\"time_major\": false, \"units\": 4", "\"time_major\": true, \"units\": 4"));

        Assert.Contains("layer 'gru' of type Conv2D is not supported", Assert.Throws<InvalidDataException>(() => Sequential.Load(conv)).Message);
        Assert.Contains("layer 'lstm': LSTM option 'time_major=true' is not supported", Assert.Throws<InvalidDataException>(() => Sequential.Load(timeMajor)).Message);
    }

    [Fact]
    public void Load_Keras2H5WithWrongWeightShape_NamesTheDataset()
    {
        using var folder = new TempFolder();
        var path = folder.File("legacy.h5");
        WriteLegacyFile(path, ModelConfig.Replace("\"units\": 2", "\"units\": 5"));

        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains("model_weights/dense/dense/kernel:0", e.Message);
        Assert.Contains("[3, 2]", e.Message);
        Assert.Contains("[3, 5]", e.Message);
    }
}
