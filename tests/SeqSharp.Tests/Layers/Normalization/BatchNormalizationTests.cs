using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using F = TorchSharp.torch.nn.functional;

namespace SeqSharp.Tests.Layers.Normalization;

public class BatchNormalizationTests
{
    private static BatchNormalization Built(long[] sampleShape, int axis = -1, ScalarType? dtype = null)
    {
        var layer = new BatchNormalization(axis: axis, dtype: dtype);
        layer.Build(sampleShape);
        using (no_grad())
        {
            layer.Weights[0].uniform_(0.5, 1.5);
            layer.Weights[1].uniform_(-0.5, 0.5);
        }
        return layer;
    }

    [Fact]
    public void Call_Training_MatchesNativeBatchNormAndUpdatesMovingStatisticsLikeKeras()
    {
        manual_seed(1);
        var layer = Built([7, 4]);
        var x = (2 * randn(5, 7, 4) + 1).requires_grad_(true);
        var xNative = x.detach().clone().requires_grad_(true);
        Tensor gamma = layer.Weights[0].detach().clone().requires_grad_(true), beta = layer.Weights[1].detach().clone().requires_grad_(true);
        layer.train();
        var ours = layer.Call(x);
        // LibTorch normalises channels on axis 1; its running statistics use another convention, so they are checked by hand below.
        var expected = F.batch_norm(xNative.permute(0, 2, 1), zeros(4), ones(4), gamma, beta, training: true, eps: 1e-3).permute(0, 2, 1);
        TensorAssert.Close(expected, ours, atol: 1e-5, what: "output");
        var probe = randn_like(ours);
        (ours * probe).sum().backward();
        (expected * probe).sum().backward();
        TensorAssert.Close(xNative.grad!, x.grad!, atol: 1e-5, what: "input gradient");
        TensorAssert.Close(gamma.grad!, layer.Weights[0].grad!, atol: 1e-4, what: "gamma gradient");
        TensorAssert.Close(beta.grad!, layer.Weights[1].grad!, atol: 1e-4, what: "beta gradient");

        var flat = x.detach().reshape(-1, 4).to_type(ScalarType.Float64);
        var mean = flat.mean([0]);
        var biasedVariance = (flat - mean).square().mean([0]);
        TensorAssert.Close(0.01 * mean, layer.MovingMean!, atol: 1e-6, what: "moving mean");
        TensorAssert.Close(0.99 + 0.01 * biasedVariance, layer.MovingVariance!, atol: 1e-6, what: "moving variance");
        Assert.Null(layer.MovingMean!.grad);
    }

    [Fact]
    public void Call_Inference_UsesMovingStatistics()
    {
        manual_seed(2);
        var layer = Built([3], dtype: ScalarType.Float64);
        var w = layer.GetWeights();
        layer.SetWeights([w[0], w[1], tensor(new double[] { 1, -2, 0.5 }), tensor(new double[] { 4, 0.25, 1 })]);
        var x = randn(6, 3, dtype: ScalarType.Float64);
        var y = layer.Call(x);
        var expected = (x - tensor(new double[] { 1, -2, 0.5 })) / (tensor(new double[] { 4, 0.25, 1 }) + 1e-3).sqrt() * w[0] + w[1];
        TensorAssert.Close(expected, y, atol: 1e-12, what: "inference output");
    }

    [Fact]
    public void Call_FrozenLayerInTrainingMode_RunsInInferenceModeLikeKeras()
    {
        manual_seed(3);
        var layer = Built([4]);
        layer.Trainable = false;
        layer.train();
        var x = randn(8, 4) * 3;
        var before = layer.GetWeights();
        var y = layer.Call(x);
        TensorAssert.Close((x - before[2]) / (before[3] + 1e-3).sqrt() * before[0] + before[1], y, atol: 1e-5, what: "frozen output");
        TensorAssert.Close(before[2], layer.MovingMean!, atol: 0, what: "moving mean unchanged");
    }

    [Fact]
    public void CallWithMask_Training_StatisticsOverUnmaskedPositionsOnly()
    {
        manual_seed(4);
        var layer = Built([5, 2], dtype: ScalarType.Float64);
        var x = randn(3, 5, 2, dtype: ScalarType.Float64);
        var mask = tensor(new[,] { { true, true, false, false, false }, { true, true, true, true, true }, { false, true, false, true, false } });
        layer.train();
        var (y, outMask) = layer.CallWithMask(x, mask);
        Assert.Same(mask, outMask);

        var kept = x.index_select(0, tensor(new long[] { 0, 1, 2 })).reshape(-1, 2)[mask.reshape(-1)];
        var mean = kept.mean([0]);
        var variance = (kept - mean).square().mean([0]);
        // Keras divides by (count + 1e-7).
        double n = kept.shape[0];
        mean *= n / (n + 1e-7);
        variance = ((kept - mean).square().sum([0])) / (n + 1e-7);
        var w = layer.GetWeights();
        var expected = (x - mean) / (variance + 1e-3).sqrt() * w[0] + w[1];
        TensorAssert.Close(expected, y, atol: 1e-12, what: "masked-statistics output");
    }

    [Fact]
    public void Fit_MovingStatisticsMovedByTheLayerOnlyAndReportedNonTrainable()
    {
        manual_seed(5);
        var layer = new BatchNormalization(inputShape: [3]);
        var model = new Sequential([layer]);
        model.Compile(optimizer: new SeqSharp.Optimizers.SGD(learningRate: 10.0), loss: "mse");
        var x = randn(16, 3) + 2;
        model.Fit(x, randn(16, 3), batchSize: 16, epochs: 1, verbose: 0, shuffle: false);
        // One training call: moving mean = 0.99·0 + 0.01·batch mean, whatever the (large) learning rate.
        TensorAssert.Close(0.01 * x.mean([0]), layer.MovingMean!, atol: 1e-6, what: "moving mean after Fit");
        string summary = model.SummaryText();
        Assert.Contains("Total params: 12 ", summary);
        Assert.Contains("Trainable params: 6 ", summary);
        Assert.Contains("Non-trainable params: 6 ", summary);
    }

    [Fact]
    public void LayerHarness_WeightsInKerasOrder()
    {
        var layer = new BatchNormalization(axis: 1);
        LayerHarness.Run(layer, randn(6, 4, 3), [6, 4, 3], trainableWeights: 2, nonTrainableWeights: 2, parameters: 16);
        Assert.Equal([layer.Weights[2], layer.Weights[3]], layer.NonTrainableWeights);
        Assert.Same(layer.MovingMean, layer.Weights[2]);
        Assert.Same(layer.MovingVariance, layer.Weights[3]);
    }

    [Theory]
    [InlineData(1.5)]
    [InlineData(-0.1)]
    public void Constructor_MomentumOutsideUnitInterval_Throws(double momentum)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNormalization(momentum: momentum));
        Assert.Contains($"momentum={momentum}", e.Message);
    }
}
