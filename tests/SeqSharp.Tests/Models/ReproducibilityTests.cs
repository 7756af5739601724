using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Models;

/// <summary>
/// <c>Utils.SetRandomSeed</c>: the same seed gives the same initial weights, shuffling order, history
/// and final weights; another seed gives others. Run alone, since the generator is process-wide.
/// </summary>
[Collection(GlobalStateCollection.Name)]
public class ReproducibilityTests
{
    private static Sequential NewModel()
    {
        var model = new Sequential([new LSTM(4, inputShape: [5, 2], returnSequences: true), new Dense(1)]);
        model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae"]);
        return model;
    }

    /// <summary>Seeds, draws data, builds a model and fits it with shuffling and a validation split.</summary>
    private static (History History, IReadOnlyList<Tensor> Weights) Run(long seed)
    {
        Utils.SetRandomSeed(seed);
        var x = randn(20, 5, 2);
        var y = randn(20, 5, 1);
        var model = NewModel();
        var history = model.Fit(x, y, batchSize: 4, epochs: 3, verbose: 0, shuffle: true, validationSplit: 0.2);
        return (history, model.GetWeights());
    }

    private static void AssertSameHistory(History expected, History actual)
    {
        Assert.Equal(expected.Keys, actual.Keys);
        Assert.Equal(expected.Epochs, actual.Epochs);
        foreach (var key in expected.Keys)
            Assert.Equal(expected[key], actual[key]);   // exactly
    }

    [Fact]
    public void Fit_SameSeed_IdenticalHistoriesAndWeights()
    {
        var first = Run(7);
        var second = Run(7);
        AssertSameHistory(first.History, second.History);
        TinyModels.AssertSameWeights(first.Weights, second.Weights);
    }

    [Fact]
    public void Fit_DifferentSeed_DifferentHistoriesAndWeights()
    {
        var first = Run(7);
        var other = Run(8);
        Assert.NotEqual(first.History["loss"], other.History["loss"]);
        Assert.False(first.Weights[0].allclose(other.Weights[0]));
    }

    [Fact]
    public void Fit_ShuffleOrder_FollowsTheSeed()
    {
        // Same data and initial weights; only the seed in force during Fit differs.
        Utils.SetRandomSeed(3);
        var x = randn(24, 5, 2);
        var y = randn(24, 5, 1);
        var initial = NewModel().GetWeights();
        History FitWithSeed(long seed, bool shuffle)
        {
            var model = NewModel();
            model.SetWeights(initial);
            Utils.SetRandomSeed(seed);
            return model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: shuffle);
        }

        AssertSameHistory(FitWithSeed(11, shuffle: true), FitWithSeed(11, shuffle: true));
        Assert.NotEqual(FitWithSeed(11, shuffle: true)["loss"], FitWithSeed(12, shuffle: true)["loss"]);
        AssertSameHistory(FitWithSeed(11, shuffle: false), FitWithSeed(12, shuffle: false));
    }

    [Fact]
    public void Fit_FloatAndDoubleArrays_SameHistoryAsTensor()
    {
        Utils.SetRandomSeed(5);
        var x = randn(12, 5, 2);
        var y = randn(12, 5, 1);
        var xFloat = new float[12, 5, 2];
        var yFloat = new float[12, 5, 1];
        var xDouble = new double[12, 5, 2];
        var yDouble = new double[12, 5, 1];
        Buffer.BlockCopy(x.data<float>().ToArray(), 0, xFloat, 0, 12 * 5 * 2 * sizeof(float));
        Buffer.BlockCopy(y.data<float>().ToArray(), 0, yFloat, 0, 12 * 5 * 1 * sizeof(float));
        Buffer.BlockCopy(x.data<float>().ToArray().Select(v => (double)v).ToArray(), 0, xDouble, 0, 12 * 5 * 2 * sizeof(double));
        Buffer.BlockCopy(y.data<float>().ToArray().Select(v => (double)v).ToArray(), 0, yDouble, 0, 12 * 5 * 1 * sizeof(double));

        (History, IReadOnlyList<Tensor>) FitWith(Func<Sequential, History> fit)
        {
            Utils.SetRandomSeed(9);
            var model = NewModel();
            return (fit(model), model.GetWeights());
        }
        var fromTensor = FitWith(m => m.Fit(x, y, batchSize: 5, epochs: 2, verbose: 0, validationSplit: 0.25));
        var fromFloats = FitWith(m => m.Fit(xFloat, yFloat, batchSize: 5, epochs: 2, verbose: 0, validationSplit: 0.25));
        var fromDoubles = FitWith(m => m.Fit(xDouble, yDouble, batchSize: 5, epochs: 2, verbose: 0, validationSplit: 0.25));

        AssertSameHistory(fromTensor.Item1, fromFloats.Item1);
        AssertSameHistory(fromTensor.Item1, fromDoubles.Item1);
        TinyModels.AssertSameWeights(fromTensor.Item2, fromFloats.Item2);
        TinyModels.AssertSameWeights(fromTensor.Item2, fromDoubles.Item2);
    }
}
