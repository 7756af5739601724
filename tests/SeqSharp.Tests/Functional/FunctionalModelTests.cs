using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Tests.Functional;

/// <summary>
/// The Functional API: <c>Input</c>, <c>layer.Apply</c>, <c>new Model(inputs, outputs)</c>, checked
/// against the equivalent Sequential model, against float64 references (LibTorch's LSTM in float64,
/// hand-written Dense), and for the refusals the issue lists.
/// </summary>
public sealed class FunctionalModelTests
{
    [Fact]
    public void PredictAndFit_TimeAxisOtherThanTheInputsFixedSize_RefusedNamingBothShapes()
    {
        torch.manual_seed(12);
        var inputs = new Input(shape: [5, 3], name: "in");
        var outputs = new Dense(1).Apply(new LSTM(4).Apply(inputs));
        var model = new Model(inputs, outputs, name: "fixed");
        model.Compile(optimizer: new SGD(learningRate: 0.1), loss: "mse");
        var before = model.GetWeights().Select(w => w.clone()).ToArray();

        var predict = Assert.Throws<ArgumentException>(() => model.Predict(randn(2, 7, 3), verbose: 0));
        Assert.Contains("model 'fixed'", predict.Message);
        Assert.Contains("(None, 5, 3)", predict.Message);
        Assert.Contains("[2, 7, 3]", predict.Message);
        Assert.Throws<ArgumentException>(() => model.Fit(randn(4, 7, 3), randn(4, 1), epochs: 1, verbose: 0));
        var after = model.GetWeights();
        for (int k = 0; k < before.Length; k++)
            Assert.True(before[k].equal(after[k]).all().item<bool>(), $"weight {k} changed by a refused call");

        // The declared length, and any length where the Input says null, run.
        Assert.Equal(new long[] { 2, 1 }, model.Predict(randn(2, 5, 3), verbose: 0).shape);
        var open = new Input(shape: [null, 3]);
        var free = new Model(open, new Dense(1).Apply(new LSTM(4).Apply(open)));
        Assert.Equal(new long[] { 2, 1 }, free.Predict(randn(2, 7, 3), verbose: 0).shape);
    }

    [Fact]
    public void LinearChain_PredictsAndTrainsExactlyAsTheEquivalentSequential()
    {
        torch.manual_seed(11);
        var inputs = new Input(shape: [null, 3], name: "in");
        var h = new LSTM(6, returnSequences: true, name: "l1").Apply(inputs);
        h = new GRU(5, name: "g1").Apply(h);
        var outputs = new Dense(2, activation: "tanh", name: "head").Apply(h);
        var functional = new Model(inputs, outputs);

        var sequential = new Sequential([
            new LSTM(6, returnSequences: true, inputShape: [null, 3]),
            new GRU(5),
            new Dense(2, activation: "tanh"),
        ]);
        sequential.SetWeights(functional.GetWeights());
        Assert.Equal(3, functional.Layers.Count);
        Assert.Equal(sequential.CountParams(), functional.CountParams());

        var x = randn(20, 7, 3);
        var y = randn(20, 2);
        double predictDiff = TensorAssert.Close(sequential.Predict(x, verbose: 0), functional.Predict(x, verbose: 0), atol: 1e-6, what: "predictions");

        functional.Compile(optimizer: new SGD(learningRate: 0.1), loss: "mse");
        sequential.Compile(optimizer: new SGD(learningRate: 0.1), loss: "mse");
        var hf = functional.Fit(x, y, batchSize: 5, epochs: 2, shuffle: false, verbose: 0);
        var hs = sequential.Fit(x, y, batchSize: 5, epochs: 2, shuffle: false, verbose: 0);
        Assert.Equal(hs["loss"][1], hf["loss"][1], 6);
        double weightDiff = 0;
        foreach (var (a, b) in sequential.GetWeights().Zip(functional.GetWeights()))
            weightDiff = Math.Max(weightDiff, TensorAssert.Close(a, b, atol: 1e-6, what: "weights after 8 steps"));
        Console.WriteLine($"functional vs Sequential: predictions max |diff| {predictDiff:E2}, weights after 8 SGD steps max |diff| {weightDiff:E2}");
    }

    [Fact]
    public void EncoderDecoder_AsTheIssueWritesIt_TrainsAndTheEncoderModelGivesLibTorchsStates()
    {
        torch.manual_seed(12);
        int vocab = 5, units = 8;
        var encoderInputs = new Input(shape: [null, vocab], name: "encoder_inputs");
        var encoder = new LSTM(units, returnState: true);
        var (_, stateH, stateC) = encoder.Apply(encoderInputs);
        var decoderInputs = new Input(shape: [null, vocab], name: "decoder_inputs");
        var decoded = new LSTM(units, returnSequences: true).Apply(decoderInputs, initialState: [stateH, stateC]);
        var outputs = new Dense(vocab, activation: "softmax").Apply(decoded);
        var model = new Model(inputs: [encoderInputs, decoderInputs], outputs: outputs);
        model.Compile(optimizer: "rmsprop", loss: "categorical_crossentropy", metrics: ["accuracy"]);

        var encoderX = nn.functional.one_hot(randint(0, vocab, [32, 6]), vocab).to_type(ScalarType.Float32);
        var decoderX = nn.functional.one_hot(randint(0, vocab, [32, 4]), vocab).to_type(ScalarType.Float32);
        var decoderY = nn.functional.one_hot(randint(0, vocab, [32, 4]), vocab).to_type(ScalarType.Float32);
        var history = model.Fit([encoderX, decoderX], decoderY, batchSize: 8, epochs: 3, verbose: 0);
        Assert.True(history["loss"][2] < history["loss"][0], $"loss should fall: {string.Join(", ", history["loss"])}");
        Assert.Contains("accuracy", history.Keys);

        var encoderModel = new Model(inputs: encoderInputs, outputs: [stateH, stateC]);
        IReadOnlyList<Tensor> states = encoderModel.PredictMulti(encoderX, verbose: 0);
        Assert.Equal(2, states.Count);
        var reference = NativeModules.Lstm(encoder);
        using (no_grad())
        {
            var (_, h, c) = reference.call(encoderX);
            TensorAssert.Close(h[0], states[0], atol: 1e-5, what: "encoder h");
            TensorAssert.Close(c[0], states[1], atol: 1e-5, what: "encoder c");
        }
    }

    [Fact]
    public void SequencePlusStaticFeatures_TwoInputs_AsAFloat64Reference()
    {
        torch.manual_seed(13);
        var series = new Input(shape: [null, 2], name: "series");
        var statics = new Input(shape: [3], name: "statics");
        var toH = new Dense(4, activation: "tanh", name: "to_h");
        var toC = new Dense(4, name: "to_c");
        var lstm = new LSTM(4, name: "lstm");
        var head = new Dense(1, name: "head");
        var output = head.Apply(lstm.Apply(series, initialState: [toH.Apply(statics), toC.Apply(statics)]));
        var model = new Model([series, statics], output);

        var xs = randn(10, 5, 2);
        var xf = randn(10, 3);
        var prediction = model.Predict([xs, xf], verbose: 0);

        Tensor Dense64(Dense d, Tensor x) => x.to_type(ScalarType.Float64).matmul(d.Weights[0].to_type(ScalarType.Float64)) + d.Weights[1].to_type(ScalarType.Float64);
        using (no_grad())
        {
            var h0 = Dense64(toH, xf).tanh();
            var c0 = Dense64(toC, xf);
            var float64 = NativeModules.Lstm(lstm).Float64Copy();
            var (_, h, _) = float64.call(xs.to_type(ScalarType.Float64), (h0.unsqueeze(0), c0.unsqueeze(0)));
            TensorAssert.Close(Dense64(head, h[0]), prediction, atol: 1e-5, what: "two-input model");
        }

        model.Compile(optimizer: "adam", loss: "mse");
        var y = randn(10, 1);
        var before = model.Evaluate([xs, xf], y, verbose: 0)["loss"];
        model.Fit([xs, xf], y, batchSize: 5, epochs: 20, verbose: 0, validationSplit: 0.2);
        Assert.True(model.Evaluate([xs, xf], y, verbose: 0)["loss"] < before);
    }

    [Fact]
    public void SharedLayer_AppliedTwice_SharesItsWeights()
    {
        var a = new Input(shape: [4], name: "a");
        var b = new Input(shape: [4], name: "b");
        var shared = new Dense(3, name: "shared");
        var ya = shared.Apply(a);
        var yb = shared.Apply(b);
        var model = new Model([a, b], [ya, yb]);
        Assert.Single(model.Layers);
        Assert.Equal(4 * 3 + 3, model.CountParams());
        var xa = randn(2, 4);
        var outputs = model.PredictMulti([xa, xa], verbose: 0);
        TensorAssert.Close(outputs[0], outputs[1], atol: 0, what: "same layer, same input");
        Assert.Contains("a[0][0], b[0][0]", model.SummaryText());
    }

    [Fact]
    public void Summary_HasKerasConnectedToColumn()
    {
        var inputs = new Input(shape: [null, 3], name: "in");
        var (seq, h, c) = new LSTM(4, returnSequences: true, returnState: true, name: "enc").Apply(inputs);
        var decoded = new LSTM(4, name: "dec").Apply(seq, initialState: [h, c]);
        var model = new Model(inputs, new Dense(1, name: "out").Apply(decoded), name: "m");
        string text = model.SummaryText();
        Assert.Contains("Connected to", text);
        Assert.Contains("in (InputLayer)", text);
        Assert.Contains("enc[0][0], enc[0][1], enc[0][2]", text);
        Assert.Contains("(None, None, 3)", text);
        Assert.Contains("[(None, None, 4), (None, 4), (None, 4)]", text);
    }

    [Fact]
    public void SaveAndLoad_KerasFunctionalFormat_PredictsTheSame()
    {
        var dir = Directory.CreateTempSubdirectory("seqsharp-functional-");
        try
        {
            torch.manual_seed(14);
            var enc = new Input(shape: [null, 3], name: "enc_in");
            var (_, h, c) = new LSTM(5, returnState: true, name: "encoder").Apply(enc);
            var dec = new Input(shape: [null, 2], name: "dec_in");
            var y = new Dense(2, name: "out").Apply(new LSTM(5, returnSequences: true, name: "decoder").Apply(dec, initialState: [h, c]));
            var model = new Model([enc, dec], y, name: "seq2seq");
            model.Compile(optimizer: "adam", loss: "mse");
            var path = Path.Combine(dir.FullName, "f.keras");
            model.Save(path);

            using var archive = System.IO.Compression.ZipFile.OpenRead(path);
            using var reader = new StreamReader(archive.GetEntry("config.json")!.Open());
            string config = reader.ReadToEnd();
            Assert.Contains("\"Functional\"", config);
            Assert.Contains("\"inbound_nodes\"", config);
            Assert.Contains("\"initial_state\"", config);
            Assert.Contains("\"keras_history\"", config);

            var loaded = Model.Load(path);
            Assert.Equal("seq2seq", loaded.Name);
            Assert.Equal(["enc_in", "dec_in"], loaded.Inputs.Select(i => i.Name));
            Assert.True(loaded.Compiled);
            var xe = randn(4, 6, 3);
            var xd = randn(4, 3, 2);
            TensorAssert.Close(model.Predict([xe, xd], verbose: 0), loaded.Predict([xe, xd], verbose: 0), atol: 0, what: "reloaded functional model");

            var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
            Assert.Contains("Model.Load", e.Message);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void BadGraphs_AreRefusedWhenTheModelIsBuilt_NamingTensorsAndLayers()
    {
        var a = new Input(shape: [3], name: "a");
        var b = new Input(shape: [3], name: "b");
        var ya = new Dense(2, name: "da").Apply(a);

        var disconnected = Assert.Throws<ArgumentException>(() => new Model(b, ya));
        Assert.Contains("'a'", disconnected.Message);
        Assert.Contains("disconnected", disconnected.Message);

        var unused = Assert.Throws<ArgumentException>(() => new Model([a, b], ya));
        Assert.Contains("'b'", unused.Message);

        var notInput = Assert.Throws<ArgumentException>(() => new Model(ya, new Dense(1).Apply(ya)));
        Assert.Contains("new Input", notInput.Message);

        var twice = Assert.Throws<ArgumentException>(() => new Model([a, a], ya));
        Assert.Contains("twice", twice.Message);

        var clash = new Dense(2, name: "da").Apply(b);
        var names = Assert.Throws<ArgumentException>(() => new Model([a, b], [ya, clash]));
        Assert.Contains("'da'", names.Message);

        var mismatch = Assert.Throws<ArgumentException>(() => new LSTM(4, name: "needs_sequences").Apply(a));
        Assert.Contains("needs_sequences", mismatch.Message);
        Assert.Contains("a of shape (None, 3)", mismatch.Message);

        var state = Assert.Throws<ArgumentException>(() => new LSTM(4, name: "lstm_s").Apply(new Input(shape: [null, 3]), initialState: [ya]));
        Assert.Contains("initial state", state.Message);
    }

    [Fact]
    public void WrongNumberOfInputArrays_IsRefusedBeforeTraining_ModelUnchanged()
    {
        var series = new Input(shape: [null, 2], name: "series");
        var statics = new Input(shape: [3], name: "statics");
        var output = new Dense(1).Apply(new LSTM(4).Apply(series, initialState: [new Dense(4).Apply(statics), new Dense(4).Apply(statics)]));
        var model = new Model([series, statics], output);
        model.Compile(optimizer: "adam", loss: "mse");
        var before = model.GetWeights();
        var xs = randn(6, 5, 2);
        var xf = randn(6, 3);
        var y = randn(6, 1);

        var one = Assert.Throws<ArgumentException>(() => model.Fit([xs], y, verbose: 0));
        Assert.Contains("2 input(s)", one.Message);
        Assert.Contains("1 array(s)", one.Message);
        var three = Assert.Throws<ArgumentException>(() => model.Fit([xs, xf, xf], y, verbose: 0));
        Assert.Contains("3 array(s)", three.Message);
        var shape = Assert.Throws<ArgumentException>(() => model.Fit([xs, randn(6, 4)], y, verbose: 0));
        Assert.Contains("statics", shape.Message);
        var samples = Assert.Throws<ArgumentException>(() => model.Fit([xs, randn(5, 3)], y, verbose: 0));
        Assert.Contains("same number of samples", samples.Message);
        var single = Assert.Throws<ArgumentException>(() => model.Fit(xs, y, verbose: 0));
        Assert.Contains("one tensor per input", single.Message);
        foreach (var (a, b) in before.Zip(model.GetWeights()))
            TensorAssert.Close(a, b, atol: 0, what: "weights after refused calls");
    }

    [Fact]
    public void Attributions_OnAFunctionalModel_AreThoseOfTheEquivalentSequential()
    {
        torch.manual_seed(15);
        var inputs = new Input(shape: [6, 2]);
        var model = new Model(inputs, new Dense(1).Apply(new LSTM(4).Apply(inputs)));
        var sequential = new Sequential([new LSTM(4, inputShape: [6, 2]), new Dense(1)]);
        sequential.SetWeights(model.GetWeights());
        var x = randn(3, 6, 2);
        TensorAssert.Close(SeqSharp.Interpretability.Attributions.Saliency(sequential, x),
            SeqSharp.Interpretability.Attributions.Saliency(model, x), atol: 1e-6, what: "saliency");
        TensorAssert.Close(SeqSharp.Interpretability.Attributions.IntegratedGradients(sequential, x, steps: 10),
            SeqSharp.Interpretability.Attributions.IntegratedGradients(model, x, steps: 10), atol: 1e-6, what: "integrated gradients");

        var a = new Input(shape: [3]);
        var b = new Input(shape: [3]);
        var two = new Model([a, b], new Dense(1).Apply(new SeqSharp.Layers.Add().Apply([a, b])));
        Assert.Throws<NotSupportedException>(() => SeqSharp.Interpretability.Attributions.Saliency(two, randn(2, 3)));
    }
}
