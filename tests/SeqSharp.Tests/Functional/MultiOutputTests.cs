using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Tests.Functional;

/// <summary>Models with several outputs: a loss and metrics per output, loss weights, Keras's log names, files.</summary>
public sealed class MultiOutputTests
{
    private static (Model Model, Dense Reg, Dense Cls) TwoHeads(int seed)
    {
        torch.manual_seed(seed);
        var x = new Input(shape: [null, 3], name: "x");
        var h = new LSTM(6, name: "trunk").Apply(x);
        var reg = new Dense(2, name: "reg");
        var cls = new Dense(4, activation: "softmax", name: "cls");
        return (new Model(x, [reg.Apply(h), cls.Apply(h)], name: "two_heads"), reg, cls);
    }

    private static (Tensor X, Tensor YReg, Tensor YCls) Data(int n)
    {
        var x = randn(n, 5, 3);
        return (x, randn(n, 2), randint(0, 4, [n]));
    }

    [Fact]
    public void Evaluate_IsTheWeightedSumOfEachOutputsLoss_ComputedByHandInFloat64_WithKerasLogNames()
    {
        var (model, _, _) = TwoHeads(21);
        model.Compile(optimizer: "adam", loss: ["mse", "sparse_categorical_crossentropy"], lossWeights: [1.0, 0.5], metrics: [["mae"], ["accuracy"]]);
        var (x, yReg, yCls) = Data(12);
        var logs = model.Evaluate(x, [yReg, yCls], batchSize: 5, verbose: 0);

        var outputs = model.PredictMulti(x, verbose: 0);
        var p1 = outputs[0].to_type(ScalarType.Float64);
        var p2 = outputs[1].to_type(ScalarType.Float64);
        double mse = (p1 - yReg.to_type(ScalarType.Float64)).square().mean().item<double>();
        double mae = (p1 - yReg.to_type(ScalarType.Float64)).abs().mean().item<double>();
        double sce = -p2.clamp(1e-7, 1 - 1e-7).log().gather(1, yCls.unsqueeze(1)).mean().item<double>();
        double accuracy = p2.argmax(1).eq(yCls).to_type(ScalarType.Float64).mean().item<double>();

        Assert.Equal(["cls_accuracy", "cls_loss", "loss", "reg_loss", "reg_mae"], logs.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(mse, logs["reg_loss"], 5);
        Assert.Equal(sce, logs["cls_loss"], 5);
        Assert.Equal(mse + 0.5 * sce, logs["loss"], 5);
        Assert.Equal(mae, logs["reg_mae"], 5);
        Assert.Equal(accuracy, logs["cls_accuracy"], 6);
    }

    [Fact]
    public void ZeroWeightOnTheSecondOutput_TrainsTheTrunkExactlyAsTheFirstOutputAlone()
    {
        var (both, _, cls) = TwoHeads(22);
        torch.manual_seed(23);
        var x1 = new Input(shape: [null, 3]);
        var single = new Model(x1, new Dense(2).Apply(new LSTM(6).Apply(x1)));
        // The single-output model: the trunk and the regression head of the two-headed one.
        var weights = both.GetWeights();
        single.SetWeights([.. weights.Take(3), .. weights.Skip(3).Take(2)]);
        var clsBefore = cls.GetWeights();

        both.Compile(optimizer: new SGD(learningRate: 0.05), loss: ["mse", "sparse_categorical_crossentropy"], lossWeights: [1.0, 0.0]);
        single.Compile(optimizer: new SGD(learningRate: 0.05), loss: "mse");
        var (x, yReg, yCls) = Data(16);
        var hb = both.Fit(x, [yReg, yCls], batchSize: 4, epochs: 2, shuffle: false, verbose: 0, validationSplit: 0.25);
        single.Fit(x, yReg, batchSize: 4, epochs: 2, shuffle: false, verbose: 0, validationSplit: 0.25);
        var after = both.GetWeights();
        var expected = single.GetWeights();
        for (int k = 0; k < 5; k++)
            TensorAssert.Close(expected[k], after[k], atol: 1e-6, what: $"weight {k}");
        foreach (var (a, b) in clsBefore.Zip(cls.GetWeights()))
            TensorAssert.Close(a, b, atol: 0, what: "the unweighted head");
        Assert.Contains("val_cls_loss", hb.Keys);
        Assert.Contains("val_reg_loss", hb.Keys);
    }

    [Fact]
    public void CompileByOutputName_AndSaveLoad_KeepsLossesWeightsAndMetrics()
    {
        var dir = Directory.CreateTempSubdirectory("seqsharp-multi-output-");
        try
        {
            var (model, _, _) = TwoHeads(24);
            model.Compile(optimizer: "adam",
                loss: new Dictionary<string, SeqSharp.Losses.Loss> { ["reg"] = "mse", ["cls"] = "sparse_categorical_crossentropy" },
                lossWeights: new Dictionary<string, double> { ["cls"] = 0.25 },
                metrics: new Dictionary<string, IReadOnlyList<object>> { ["cls"] = ["accuracy"] });
            var (x, yReg, yCls) = Data(10);
            model.Fit(x, [yReg, yCls], epochs: 1, verbose: 0);
            var path = Path.Combine(dir.FullName, "m.keras");
            model.Save(path);
            var loaded = Model.Load(path);
            var a = model.Evaluate(x, [yReg, yCls], verbose: 0);
            var b = loaded.Evaluate(x, [yReg, yCls], verbose: 0);
            Assert.Equal(a.Keys.Order(), b.Keys.Order());
            foreach (var key in a.Keys)
                Assert.Equal(a[key], b[key], 6);
            Assert.Contains("cls_accuracy", b.Keys);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void BadTargets_AreRefusedNamingTheOutput_ModelUnchanged()
    {
        var (model, _, _) = TwoHeads(25);
        model.Compile(optimizer: "adam", loss: ["mse", "sparse_categorical_crossentropy"]);
        var before = model.GetWeights();
        var (x, yReg, yCls) = Data(8);
        var single = Assert.Throws<ArgumentException>(() => model.Fit(x, yReg, verbose: 0));
        Assert.Contains("one target array per output", single.Message);
        var count = Assert.Throws<ArgumentException>(() => model.Fit(x, [yReg], verbose: 0));
        Assert.Contains("2 outputs", count.Message);
        var shape = Assert.Throws<ArgumentException>(() => model.Fit(x, [randn(8, 3), yCls], verbose: 0));
        Assert.Contains("reg", shape.Message);
        var lossCount = Assert.Throws<ArgumentException>(() => model.Compile(optimizer: "adam", loss: ["mse"]));
        Assert.Contains("2 outputs", lossCount.Message);
        var unknown = Assert.Throws<ArgumentException>(() => model.Compile(optimizer: "adam", loss: new Dictionary<string, SeqSharp.Losses.Loss> { ["nope"] = "mse" }));
        Assert.Contains("reg, cls", unknown.Message);
        foreach (var (a, b) in before.Zip(model.GetWeights()))
            TensorAssert.Close(a, b, atol: 0, what: "weights after refused calls");
        Assert.Throws<InvalidOperationException>(() => model.Predict(x, verbose: 0));
    }
}
