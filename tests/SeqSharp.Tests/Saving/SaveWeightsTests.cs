using PureHDF;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Tests.TestSupport;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Saving;

public class SaveWeightsTests
{
    /// <summary>InputLayer, LSTM with peepholes, SimpleRNN, LSTM, Dense, Dense; layer names unlike Keras's keys on purpose.</summary>
    internal static Sequential Mixed(int seed, string name = "mixed")
    {
        manual_seed(seed);
        var model = new Sequential(name: name);
        model.Add(new InputLayer([5, 3], name: "in"));
        model.Add(new LSTM(6, returnSequences: true, usePeepholes: true, name: "encoder"));
        model.Add(new SimpleRNN(4, returnSequences: true, name: "middle"));
        model.Add(new LSTM(3, name: "decoder"));
        model.Add(new Dense(5, activation: "relu", name: "hidden"));
        model.Add(new Dense(2, name: "out"));
        using (no_grad())
        {
            foreach (var layer in model.Layers)
            {
                foreach (var w in layer.Weights)
                    w.uniform_(-0.5, 0.5);
            }
        }
        return model;
    }

    /// <summary>Every group and dataset of an HDF5 file: "G path" for groups, "D path [shape] class size" for datasets, "A path name=value" for string attributes.</summary>
    internal static List<string> Inventory(string path)
    {
        using var file = H5File.OpenRead(path);
        var lines = new List<string>();
        void Walk(IH5Group group, string prefix)
        {
            foreach (var a in group.Attributes())
                lines.Add($"A {prefix} {a.Name}={a.Read<string>()}");
            foreach (var child in group.Children())
            {
                string p = prefix.Length == 0 ? child.Name : prefix + "/" + child.Name;
                if (child is IH5Group g)
                {
                    lines.Add($"G {p}");
                    Walk(g, p);
                }
                else if (child is IH5Dataset d)
                {
                    lines.Add($"D {p} [{string.Join(", ", d.Space.Dimensions)}] {d.Type.Class} {d.Type.Size}");
                }
            }
        }
        Walk(file, "");
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    [Theory]
    [InlineData("model.h5")]
    [InlineData("model.weights")]
    [InlineData("model.keras")]
    [InlineData("model.weights.h5.bak")]
    public void SaveWeights_NameWithoutWeightsH5_ThrowsKerasMessage(string name)
    {
        using var folder = new TempFolder();
        var model = Mixed(1);
        var e = Assert.Throws<ArgumentException>(() => model.SaveWeights(folder.File(name)));
        Assert.Contains("The filename must end in `.weights.h5`. Received: filepath=", e.Message);
        Assert.Contains(name, e.Message);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void SaveWeights_UnbuiltModel_ThrowsInvalidOperation()
    {
        using var folder = new TempFolder();
        var model = new Sequential();
        model.Add(new Dense(3));
        var e = Assert.Throws<InvalidOperationException>(() => model.SaveWeights(folder.File("m.weights.h5")));
        Assert.Contains("not built", e.Message);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void SaveWeights_UncompiledModel_WritesKerasLayoutWithoutOptimizer()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.weights.h5");
        Mixed(2).SaveWeights(path);

        // Written out by hand from Keras 3's saving_lib: keys by class (not layer name), numbered per
        // class, InputLayer absent, recurrent weights in the cell, 'name' attributes of the owners.
        var expected = new List<string>
        {
            "G layers",
            "G layers/dense", "G layers/dense/vars", "A layers/dense/vars name=hidden",
            "D layers/dense/vars/0 [3, 5] FloatingPoint 4", "D layers/dense/vars/1 [5] FloatingPoint 4",
            "G layers/dense_1", "G layers/dense_1/vars", "A layers/dense_1/vars name=out",
            "D layers/dense_1/vars/0 [5, 2] FloatingPoint 4", "D layers/dense_1/vars/1 [2] FloatingPoint 4",
            "G layers/lstm", "G layers/lstm/vars", "A layers/lstm/vars name=encoder",
            "G layers/lstm/cell", "G layers/lstm/cell/vars", "A layers/lstm/cell/vars name=lstm_cell",
            "D layers/lstm/cell/vars/0 [3, 24] FloatingPoint 4", "D layers/lstm/cell/vars/1 [6, 24] FloatingPoint 4",
            "D layers/lstm/cell/vars/2 [24] FloatingPoint 4", "D layers/lstm/cell/vars/3 [3, 6] FloatingPoint 4",
            "G layers/lstm_1", "G layers/lstm_1/vars", "A layers/lstm_1/vars name=decoder",
            "G layers/lstm_1/cell", "G layers/lstm_1/cell/vars", "A layers/lstm_1/cell/vars name=lstm_cell",
            "D layers/lstm_1/cell/vars/0 [4, 12] FloatingPoint 4", "D layers/lstm_1/cell/vars/1 [3, 12] FloatingPoint 4",
            "D layers/lstm_1/cell/vars/2 [12] FloatingPoint 4",
            "G layers/simple_rnn", "G layers/simple_rnn/vars", "A layers/simple_rnn/vars name=middle",
            "G layers/simple_rnn/cell", "G layers/simple_rnn/cell/vars", "A layers/simple_rnn/cell/vars name=simple_rnn_cell",
            "D layers/simple_rnn/cell/vars/0 [6, 4] FloatingPoint 4", "D layers/simple_rnn/cell/vars/1 [4, 4] FloatingPoint 4",
            "D layers/simple_rnn/cell/vars/2 [4] FloatingPoint 4",
            "G vars", "A vars name=mixed",
        };
        expected.Sort(StringComparer.Ordinal);
        Assert.Equal(expected, Inventory(path));
    }

    [Fact]
    public void SaveWeights_Values_AreTheWeightsInKerasOrder()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.weights.h5");
        var model = Mixed(3);
        model.SaveWeights(path);

        using var file = H5File.OpenRead(path);
        var lstm = (LSTM)model.Layers[0];
        var dense = (Dense)model.Layers[4];
        TensorAssert.Close(lstm.Weights[0], tensor(file.Dataset("layers/lstm/cell/vars/0").Read<float[]>(), [3, 24]), atol: 0, what: "kernel");
        TensorAssert.Close(lstm.Weights[3], tensor(file.Dataset("layers/lstm/cell/vars/3").Read<float[]>(), [3, 6]), atol: 0, what: "peephole");
        TensorAssert.Close(dense.Weights[0], tensor(file.Dataset("layers/dense_1/vars/0").Read<float[]>(), [5, 2]), atol: 0, what: "dense kernel");
        TensorAssert.Close(dense.Weights[1], tensor(file.Dataset("layers/dense_1/vars/1").Read<float[]>(), [2]), atol: 0, what: "dense bias");
    }

    [Fact]
    public void SaveWeights_CompiledAndTrained_WritesOptimizerStateAsKerasDoes()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.weights.h5");
        manual_seed(4);
        var model = new Sequential(name: "small");
        model.Add(new Dense(3, inputShape: [2]));
        model.Add(new Dense(1));
        model.Compile(optimizer: new Adam(learningRate: 0.01), loss: "mse");
        model.Fit(randn(10, 2), randn(10, 1), batchSize: 4, epochs: 2, verbose: 0, shuffle: false);   // 3 steps per epoch
        model.SaveWeights(path);

        var lines = Inventory(path);
        Assert.Contains("A optimizer/vars name=adam", lines);
        Assert.Contains("D optimizer/vars/0 [] FixedPoint 8", lines);    // iterations, int64 scalar
        Assert.Contains("D optimizer/vars/1 [] FloatingPoint 4", lines); // learning rate, float32 scalar
        // Adam: momentum and velocity of each of the 4 variables, in turn.
        long[][] shapes = [[2, 3], [2, 3], [3], [3], [3, 1], [3, 1], [1], [1]];
        for (int i = 0; i < shapes.Length; i++)
            Assert.Contains($"D optimizer/vars/{i + 2} [{string.Join(", ", shapes[i])}] FloatingPoint 4", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("D optimizer/vars/10", StringComparison.Ordinal));

        using var file = H5File.OpenRead(path);
        Assert.Equal(6L, file.Dataset("optimizer/vars/0").Read<long>());
        Assert.Equal(0.01f, file.Dataset("optimizer/vars/1").Read<float>());
    }

    [Fact]
    public void SaveWeights_ExistingFile_IsReplacedAndNoTemporaryFileRemains()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.weights.h5");
        File.WriteAllText(path, "an older, unrelated file");
        var model = Mixed(5);
        model.SaveWeights(path);
        model.SaveWeights(path);

        Assert.Equal([path], Directory.GetFiles(folder.Path));
        Assert.Contains("G layers/lstm/cell/vars", Inventory(path));
    }

    [Fact]
    public void SaveWeights_MissingFolder_ThrowsAndCreatesNothing()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "no-such-folder", "m.weights.h5");
        Assert.ThrowsAny<IOException>(() => Mixed(6).SaveWeights(path));
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }
}
