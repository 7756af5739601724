using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Tests.Models;

/// <summary>
/// <c>inputShape: [null, 14]</c> (Keras <c>input_shape=(None, 14)</c>): a model built for any number of
/// time steps, checked against a hand-written float64 recurrence.
/// </summary>
public sealed class NoneTimeAxisTests
{
    /// <summary>tanh(x_t W + h U + b) over the steps, then Dense: Keras's SimpleRNN formulas in float64.</summary>
    private static Tensor HandRnnThenDense(Tensor x, IReadOnlyList<Tensor> w)
    {
        var (kernel, recurrent, bias, denseKernel, denseBias) = (w[0].to_type(ScalarType.Float64), w[1].to_type(ScalarType.Float64),
            w[2].to_type(ScalarType.Float64), w[3].to_type(ScalarType.Float64), w[4].to_type(ScalarType.Float64));
        var xd = x.to_type(ScalarType.Float64);
        var h = zeros([x.shape[0], recurrent.shape[0]], ScalarType.Float64);
        for (long t = 0; t < x.shape[1]; t++)
            h = tanh(xd[.., t].matmul(kernel) + h.matmul(recurrent) + bias);
        return h.matmul(denseKernel) + denseBias;
    }

    [Fact]
    public void NullTimeAxis_BuildsAtAdd_PredictsAnyLength_AsTheHandRecurrence()
    {
        torch.manual_seed(3);
        var model = new Sequential([new SimpleRNN(4, inputShape: [null, 3]), new Dense(2)]);
        Assert.True(model.Built);
        Assert.Equal([-1L, 3L], model.InputShape!);
        Assert.Equal([2L], model.OutputShape!);
        var weights = model.GetWeights();
        foreach (int steps in new[] { 1, 5, 9 })
        {
            var x = randn(6, steps, 3);
            TensorAssert.Close(HandRnnThenDense(x, weights), model.Predict(x, verbose: 0), atol: 1e-5, what: $"{steps} steps");
        }
    }

    [Fact]
    public void MinusOne_IsNoneToo_AndTrainsOnBatchesOfDifferentLengths()
    {
        torch.manual_seed(4);
        var model = new Sequential([new LSTM(5, inputShape: [-1, 2], returnSequences: true), new LSTM(3), new Dense(1)]);
        model.Compile(optimizer: "adam", loss: "mse");
        var before = model.GetWeights();
        IEnumerable<(Tensor X, Tensor Y)> Batches()
        {
            foreach (int steps in new[] { 4, 7, 3 })
                yield return (randn(8, steps, 2), randn(8, 1));
        }
        var history = model.Fit(Batches(), epochs: 1, verbose: 0);
        Assert.True(double.IsFinite(history["loss"][0]));
        Assert.Contains(model.GetWeights().Zip(before), p => !p.First.allclose(p.Second));
    }

    [Fact]
    public void Summary_ShowsNoneForTheTimeAxis()
    {
        var model = new Sequential([new LSTM(8, inputShape: [null, 14], returnSequences: true, name: "seq"), new Dense(1, name: "head")]);
        string summary = model.SummaryText();
        Assert.Contains("(None, None, 8)", summary);
        Assert.Contains("(None, None, 1)", summary);
    }

    [Fact]
    public void ConvolutionAndPooling_KeepTheTimeAxisUnknown()
    {
        var model = new Sequential([
            new Conv1D(4, 3, padding: "causal", inputShape: [null, 2]),
            new MaxPooling1D(2),
            new GlobalAveragePooling1D(),
            new Dense(1),
        ]);
        Assert.Equal([-1L, 4L], model.Layers[1].OutputShape!);
        Assert.Equal([1L], model.OutputShape!);
        Assert.Equal([3L, 1L], model.Predict(randn(3, 10, 2), verbose: 0).shape);
        Assert.Equal([3L, 1L], model.Predict(randn(3, 6, 2), verbose: 0).shape);
    }

    [Fact]
    public void WeightsThatDependOnTheUnknownSize_AreRefusedAtAdd_NamingLayerAndShape()
    {
        var model = new Sequential([new Dense(4, inputShape: [null, 3]), new Flatten()]);
        var e = Assert.Throws<ArgumentException>(() => model.Add(new Dense(1, name: "after_flatten")));
        Assert.Contains("after_flatten", e.Message);
        Assert.Contains("None", e.Message);
        Assert.Equal(2, model.Layers.Count);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-2L)]
    public void OtherNonPositiveSizes_AreRefused(long size)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new LSTM(4, inputShape: [size, 3]));
        Assert.Contains("null", e.Message);
    }

    [Fact]
    public void SaveAndLoad_KeepTheNoneAxis_AsNullInTheConfig()
    {
        var dir = Directory.CreateTempSubdirectory("seqsharp-none-axis-");
        try
        {
            torch.manual_seed(5);
            var model = new Sequential([new GRU(3, inputShape: [null, 2]), new Dense(1)]);
            string json = model.ToJson();
            Assert.Matches(@"\[\s*null,\s*null,\s*2\s*\]", json);
            var path = Path.Combine(dir.FullName, "m.keras");
            model.Save(path);
            var loaded = Sequential.Load(path);
            Assert.Equal([-1L, 2L], loaded.InputShape!);
            var x = randn(2, 11, 2);
            TensorAssert.Close(model.Predict(x, verbose: 0), loaded.Predict(x, verbose: 0), atol: 0, what: "reloaded");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void InputLayer_WithNullTimeAxis()
    {
        var model = new Sequential([new InputLayer([null, 3]), new SimpleRNN(2)]);
        Assert.Equal([-1L, 3L], model.InputShape!);
        Assert.Equal([4L, 2L], model.Predict(randn(4, 7, 3), verbose: 0).shape);
        var e = Assert.Throws<ArgumentException>(() => model.Predict(randn(4, 7, 5), verbose: 0));
        Assert.Contains("3", e.Message);
    }
}
