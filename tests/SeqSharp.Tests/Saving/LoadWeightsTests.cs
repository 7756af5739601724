using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Tests.TestSupport;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Saving;

public class LoadWeightsTests
{
    private static Sequential Mixed(int seed) => SaveWeightsTests.Mixed(seed);

    private static Sequential SmallDense(int seed)
    {
        manual_seed(seed);
        var model = new Sequential();
        model.Add(new Dense(4, inputShape: [3], activation: "tanh"));
        model.Add(new Dense(1));
        return model;
    }

    private static void AssertWeightsEqual(IReadOnlyList<Tensor> expected, IReadOnlyList<Tensor> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            TensorAssert.Close(expected[i], actual[i], atol: 0, what: $"weight {i}");
    }

    [Fact]
    public void LoadWeights_FreshModelOfSameArchitecture_PredictsIdentically()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.weights.h5");
        var source = Mixed(10);
        source.SaveWeights(path);
        var target = Mixed(11);
        var x = randn(7, 5, 3);
        Assert.True((source.Predict(x, verbose: 0) - target.Predict(x, verbose: 0)).abs().max().item<float>() > 1e-3,
            "the two models should differ before loading");

        target.LoadWeights(path);

        TensorAssert.Close(source.Predict(x, verbose: 0), target.Predict(x, verbose: 0), atol: 0, what: "prediction");
        AssertWeightsEqual(source.GetWeights(), target.GetWeights());
    }

    [Fact]
    public void LoadWeights_Float64Model_RoundTripsExactly()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.weights.h5");
        manual_seed(12);
        var source = new Sequential();
        source.Add(new LSTM(3, inputShape: [4, 2], dtype: ScalarType.Float64));
        source.SaveWeights(path);
        manual_seed(13);
        var target = new Sequential();
        target.Add(new LSTM(3, inputShape: [4, 2], dtype: ScalarType.Float64));
        target.LoadWeights(path);
        AssertWeightsEqual(source.GetWeights(), target.GetWeights());
        Assert.Equal(ScalarType.Float64, target.GetWeights()[0].dtype);
    }

    [Fact]
    public void LoadWeights_WithOptimizerState_ContinuesTrainingExactlyAsTheOriginal()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.weights.h5");
        manual_seed(14);
        var x = randn(12, 3);
        var y = randn(12, 1);
        var original = SmallDense(15);
        original.Compile(optimizer: new Adam(learningRate: 0.02), loss: "mse");
        original.Fit(x, y, batchSize: 5, epochs: 3, verbose: 0, shuffle: false);
        original.SaveWeights(path);

        var resumed = SmallDense(16);
        resumed.Compile(optimizer: new Adam(learningRate: 0.02), loss: "mse");
        resumed.LoadWeights(path);
        Assert.Equal(9, resumed.Optimizer!.Iterations);   // 3 epochs of 3 batches
        Assert.Equal(0.02, resumed.Optimizer.LearningRate); // the stored float32 rate rounds to the current one: kept

        original.Fit(x, y, batchSize: 5, epochs: 2, verbose: 0, shuffle: false);
        resumed.Fit(x, y, batchSize: 5, epochs: 2, verbose: 0, shuffle: false);
        // Adam's bias correction depends on the iteration count and its moments on the slots: both must have been restored.
        AssertWeightsEqual(original.GetWeights(), resumed.GetWeights());
    }

    [Fact]
    public void LoadWeights_StoredRate_ReplacesTheCompiledRateAsFloat32()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.weights.h5");
        var source = SmallDense(30);
        source.Compile(optimizer: new Adam(learningRate: 0.02), loss: "mse");
        source.Fit(randn(6, 3), randn(6, 1), verbose: 0);
        source.SaveWeights(path);

        var target = SmallDense(31);
        target.Compile(optimizer: new Adam(learningRate: 0.5), loss: "mse");
        target.LoadWeights(path);
        Assert.Equal((double)0.02f, target.Optimizer!.LearningRate);   // Keras stores the rate as float32
        Assert.Equal(1, target.Optimizer.Iterations);
    }

    [Fact]
    public void LoadWeights_OptimizerOfAnotherKind_LoadsWeightsAndSkipsOptimizerState()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.weights.h5");
        var source = SmallDense(17);
        source.Compile(optimizer: new Adam(), loss: "mse");
        source.Fit(randn(6, 3), randn(6, 1), verbose: 0);
        source.SaveWeights(path);

        var target = SmallDense(18);
        target.Compile(optimizer: new SGD(), loss: "mse");   // 2 counters, no slots: Keras warns and skips
        target.LoadWeights(path);
        AssertWeightsEqual(source.GetWeights(), target.GetWeights());
        Assert.Equal(0, target.Optimizer!.Iterations);
    }

    [Fact]
    public void LoadWeights_UnbuiltOptimizer_IsBuiltForTheModelAndRestored()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.weights.h5");
        var source = SmallDense(19);
        source.Compile(optimizer: new RMSprop(), loss: "mse");
        source.Fit(randn(6, 3), randn(6, 1), batchSize: 2, verbose: 0);
        source.SaveWeights(path);

        var target = SmallDense(20);
        target.Compile(optimizer: new RMSprop(), loss: "mse");
        Assert.False(target.Optimizer!.Built);
        target.LoadWeights(path);
        Assert.True(target.Optimizer.Built);
        var expected = source.Optimizer!.Variables;
        var actual = target.Optimizer.Variables;
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            TensorAssert.Close(expected[i], actual[i], atol: 1e-7, what: $"optimizer variable {i}");
    }

    [Theory]
    [InlineData("m.weights")]
    [InlineData("m.pt")]
    public void LoadWeights_UnsupportedName_ThrowsArgumentException(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => SmallDense(21).LoadWeights(name));
        Assert.Contains($"File format not supported: filepath={name}", e.Message);
    }

    [Fact]
    public void LoadWeights_MissingFile_ThrowsFileNotFound()
    {
        using var folder = new TempFolder();
        Assert.Throws<FileNotFoundException>(() => SmallDense(22).LoadWeights(folder.File("none.weights.h5")));
    }

    [Fact]
    public void LoadWeights_UnbuiltModel_ThrowsInvalidOperation()
    {
        var model = new Sequential();
        model.Add(new Dense(2));
        var e = Assert.Throws<InvalidOperationException>(() => model.LoadWeights("x.weights.h5"));
        Assert.Contains("not built", e.Message);
    }

    public static TheoryData<string, string> BadFiles => new()
    {
        { "empty", "is empty" },
        { "garbage", "not an HDF5 file" },
        // SeqSharp's files carry a CRC-32 of their HDF5 data in a 512-byte user block (see FileIntegrityTests).
        { "truncated-half", "the file is truncated" },
        { "truncated-header", "the file is truncated" },
        { "corrupt-middle", "fails its CRC-32 check" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void LoadWeights_DamagedFile_ThrowsInvalidDataAndLeavesModelUnchanged(string damage, string expectedMessage)
    {
        using var folder = new TempFolder();
        var good = folder.File("good.weights.h5");
        var bad = folder.File("bad.weights.h5");
        var source = Mixed(23);
        source.Compile(optimizer: "adam", loss: "mse");
        source.Fit(randn(4, 5, 3), randn(4, 2), verbose: 0);
        source.SaveWeights(good);
        var bytes = File.ReadAllBytes(good);
        byte[] damaged = damage switch
        {
            "empty" => [],
            "garbage" => System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("not hdf5 at all ", 100))),
            "truncated-half" => bytes[..(bytes.Length / 2)],
            "truncated-header" => bytes[..(512 + 40)],   // the user block and 40 bytes of the superblock
            _ => Corrupt(bytes),
        };
        File.WriteAllBytes(bad, damaged);

        var target = Mixed(24);
        target.Compile(optimizer: "adam", loss: "mse");
        var before = target.GetWeights();
        var e = Assert.Throws<InvalidDataException>(() => target.LoadWeights(bad));
        Assert.Contains(expectedMessage, e.Message);
        Assert.Contains("bad.weights.h5", e.Message);
        AssertWeightsEqual(before, target.GetWeights());
        Assert.Equal(0, target.Optimizer!.Iterations);
    }

    /// <summary>Keeps the signature and superblock, overwrites everything after them with a fixed pattern.</summary>
    private static byte[] Corrupt(byte[] bytes)
    {
        var copy = (byte[])bytes.Clone();
        for (int i = 512 + 96; i < copy.Length; i++)   // past the user block and the superblock
            copy[i] = (byte)(i * 31 + 7);
        return copy;
    }

    [Fact]
    public void LoadWeights_WrongShapes_ThrowsNamingTheVariableAndLeavesModelUnchanged()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.weights.h5");
        manual_seed(25);
        var source = new Sequential();
        source.Add(new LSTM(4, inputShape: [5, 3]));
        source.Add(new Dense(2));
        source.SaveWeights(path);

        manual_seed(26);
        var target = new Sequential();
        target.Add(new LSTM(4, inputShape: [5, 3]));
        target.Add(new Dense(3));   // kernel (4, 3) where the file has (4, 2)
        var before = target.GetWeights();
        var e = Assert.Throws<InvalidDataException>(() => target.LoadWeights(path));
        Assert.Contains("layers/dense/vars/0", e.Message);
        Assert.Contains("[4, 2]", e.Message);
        Assert.Contains("[4, 3]", e.Message);
        // The LSTM's group comes first and matched, yet nothing was written.
        AssertWeightsEqual(before, target.GetWeights());
    }

    [Fact]
    public void LoadWeights_MissingLayerGroup_ThrowsWithKerasCountMessage()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.weights.h5");
        manual_seed(27);
        var source = new Sequential();
        source.Add(new Dense(3, inputShape: [2]));
        source.SaveWeights(path);

        manual_seed(28);
        var target = new Sequential();
        target.Add(new Dense(3, inputShape: [2]));
        target.Add(new Dense(1, name: "head"));
        var before = target.GetWeights();
        var e = Assert.Throws<InvalidDataException>(() => target.LoadWeights(path));
        Assert.Contains("Layer 'head' expected 2 variables, but received 0 variables during loading", e.Message);
        AssertWeightsEqual(before, target.GetWeights());
    }

    [Fact]
    public void LoadWeights_PeepholesIntoModelWithout_ThrowsCountMismatch()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.weights.h5");
        manual_seed(29);
        var source = new Sequential();
        source.Add(new LSTM(3, inputShape: [4, 2], usePeepholes: true, name: "peep"));
        source.SaveWeights(path);
        var target = new Sequential();
        target.Add(new LSTM(3, inputShape: [4, 2], name: "plain"));
        var e = Assert.Throws<InvalidDataException>(() => target.LoadWeights(path));
        Assert.Contains("Cell of layer 'plain' expected 3 variables, but received 4", e.Message);
    }
}
