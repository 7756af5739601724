using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;
using F = TorchSharp.torch.nn.functional;

namespace SeqSharp.Tests.Layers.Core;

public class DenseTests(ITestOutputHelper output)
{
    public static TheoryData<string, bool, int> Cases => new()
    {
        // activation, useBias, input rank
        { "linear", true, 2 },
        { "linear", false, 2 },
        { "linear", true, 3 },
        { "linear", false, 3 },
        { "relu", true, 3 },
        { "tanh", true, 2 },
        { "sigmoid", false, 3 },
        { "softmax", true, 3 },
    };

    /// <summary>The activation applied by hand to the native module's output.</summary>
    private static Tensor ApplyByHand(string activation, Tensor y) => activation switch
    {
        "linear" => y,
        "relu" => F.relu(y),
        "tanh" => y.tanh(),
        "sigmoid" => y.sigmoid(),
        "softmax" => F.softmax(y, -1),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Call_SameWeightsAsNativeLinear_MatchesOutputsAndGradients(string activation, bool useBias, int rank)
    {
        manual_seed(rank * 10 + (useBias ? 1 : 0));
        var layer = new Dense(7, activation: activation, useBias: useBias);
        long[] shape = rank == 2 ? [6, 5] : [4, 9, 5];
        layer.Build(shape[1..]);
        if (useBias)
        {
            using (no_grad())
                layer.Weights[1].uniform_(-0.5, 0.5);
        }
        var native = NativeModules.Linear(layer);

        var x = randn(shape).requires_grad_(true);
        var xNative = x.detach().clone().requires_grad_(true);
        var ours = layer.Call(x);
        var expected = ApplyByHand(activation, native.call(xNative));
        double forward = TensorAssert.Close(expected, ours, atol: 1e-6, what: "output");

        var probe = randn_like(expected);
        (ours * probe).sum().backward();
        (expected * probe).sum().backward();
        double dx = TensorAssert.Close(xNative.grad!, x.grad!, atol: 1e-5, rtol: 1e-5, what: "input gradient");
        double dw = TensorAssert.Close(NativeModules.Grad(native, "weight").t(), layer.Weights[0].grad!, atol: 1e-5, rtol: 1e-5, what: "kernel gradient");
        double db = useBias ? TensorAssert.Close(NativeModules.Grad(native, "bias"), layer.Weights[1].grad!, atol: 1e-5, rtol: 1e-5, what: "bias gradient") : 0;
        output.WriteLine($"Dense {activation} bias={useBias} rank {rank}: max |diff| output {forward:E2}, dx {dx:E2}, dkernel {dw:E2}, dbias {db:E2}");
    }

    [Fact]
    public void Call_Rank3Input_ActsOnLastAxisPerTimeStep()
    {
        manual_seed(1);
        var layer = new Dense(3);
        var x = randn(2, 4, 5);
        var y = layer.Call(x);
        Assert.Equal(new long[] { 2, 4, 3 }, y.shape);
        for (int t = 0; t < 4; t++)
            TensorAssert.Close(layer.Call(x[.., t]), y[.., t], atol: 1e-6, what: $"step {t}");
        Assert.Equal(new long[] { 4, 3 }, layer.OutputShape);
    }

    [Fact]
    public void Build_DefaultInitializers_GlorotUniformKernelZeroBias()
    {
        manual_seed(2);
        var layer = new Dense(200);
        layer.Build([300]);
        var (kernel, bias) = (layer.Weights[0], layer.Weights[1]);
        double limit = Math.Sqrt(6.0 / (300 + 200));
        double max = kernel.abs().max().item<float>();
        Assert.InRange(max, 0.99 * limit, limit);
        Assert.InRange(kernel.std().item<float>(), 0.98 * limit / Math.Sqrt(3), 1.02 * limit / Math.Sqrt(3));
        Assert.Equal(0f, bias.abs().sum().item<float>());
    }

    [Fact]
    public void Call_Rank1Input_ThrowsWithLayerNameAndShape()
    {
        var layer = new Dense(4, name: "head");
        var e = Assert.Throws<ArgumentException>(() => layer.Call(zeros(5)));
        Assert.Equal("Input 0 of layer 'head' is incompatible with the layer: expected rank >= 2, found rank 1. Full shape received: [5].", e.Message);
        Assert.False(layer.Built);
    }

    [Fact]
    public void Call_WrongFeatureSizeAfterBuild_ThrowsAndKeepsWeights()
    {
        var layer = new Dense(4, name: "proj");
        layer.Build([3]);
        var before = layer.GetWeights();
        var e = Assert.Throws<ArgumentException>(() => layer.Call(zeros(2, 6)));
        Assert.Contains("'proj'", e.Message);
        Assert.Contains("axis -1", e.Message);
        Assert.Contains("value 3", e.Message);
        Assert.Contains("[2, 6]", e.Message);
        for (int k = 0; k < before.Count; k++)
            Assert.True(before[k].allclose(layer.Weights[k], rtol: 0, atol: 0));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void Constructor_NonPositiveUnits_Throws(int units)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Dense(units));
        Assert.Contains($"units={units}", e.Message);
    }

    [Fact]
    public void Constructor_UnknownActivation_ListsValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => new Dense(4, activation: "leaky"));
        Assert.Contains("'leaky'", e.Message);
        foreach (string name in new[] { "linear", "relu", "sigmoid", "softmax", "gelu" })
            Assert.Contains(name, e.Message);
    }

    [Fact]
    public void GetWeights_KerasShapes()
    {
        var layer = new Dense(4);
        layer.Build([10, 3]);
        Assert.Equal(new[] { new long[] { 3, 4 }, [4] }, layer.GetWeights().Select(w => w.shape).ToArray());
        var noBias = new Dense(4, useBias: false);
        noBias.Build([3]);
        Assert.Equal(new[] { new long[] { 3, 4 } }, noBias.GetWeights().Select(w => w.shape).ToArray());
        Assert.Equal(12 + 4, layer.CountParams());
    }

    [Fact]
    public void GetWeights_ReturnsCopies()
    {
        var layer = new Dense(2);
        layer.Build([3]);
        var copy = layer.GetWeights();
        copy[0].fill_(42);
        Assert.NotEqual(42f, layer.Weights[0].max().item<float>());
    }

    [Fact]
    public void SetWeights_RoundTrip_GivesKerasLayoutResult()
    {
        var layer = new Dense(2);
        layer.Build([3]);
        var kernel = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [3, 2]);
        var bias = tensor(new float[] { 0.5f, -1 });
        layer.SetWeights([kernel, bias]);
        // [1, 1, 1] · kernel + bias, computed by hand: [1 + 3 + 5 + 0.5, 2 + 4 + 6 - 1].
        TensorAssert.Close(tensor(new float[] { 9.5f, 11 }, [1, 2]), layer.Call(ones(1, 3)), atol: 0);
    }

    [Fact]
    public void SetWeights_WrongShapeOrCount_ThrowsAndChangesNothing()
    {
        var layer = new Dense(4, name: "d");
        layer.Build([3]);
        var before = layer.GetWeights();
        // A valid kernel first: it must not be written when the bias is refused.
        var e = Assert.Throws<ArgumentException>(() => layer.SetWeights([ones(3, 4), ones(5)]));
        Assert.Contains("[4]", e.Message);
        Assert.Contains("[5]", e.Message);
        Assert.Throws<ArgumentException>(() => layer.SetWeights([ones(4, 3), ones(4)]));
        var count = Assert.Throws<ArgumentException>(() => layer.SetWeights([ones(3, 4)]));
        Assert.Contains("expects 2", count.Message);
        for (int k = 0; k < before.Count; k++)
            Assert.True(before[k].allclose(layer.Weights[k], rtol: 0, atol: 0), $"Weight {k} changed.");
    }

    [Fact]
    public void SetWeights_BeforeBuild_ThrowsInvalidOperation()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new Dense(2, name: "late").SetWeights([ones(3, 2), ones(2)]));
        Assert.Contains("'late'", e.Message);
    }

    [Fact]
    public void CallWithMask_PassesMaskOnLikeKeras()
    {
        var mask = tensor(new[,] { { true, false, true } });
        Assert.Same(mask, new Dense(2).CallWithMask(zeros(1, 3, 4), mask).Mask);
    }

    [Fact]
    public void LayerHarness_ShapesWeightsConfigAndTraining()
    {
        LayerHarness.Run(new Dense(4, activation: "relu"), randn(3, 5, 2), [3, 5, 4], trainableWeights: 2, parameters: 2 * 4 + 4);
        LayerHarness.Run(new Dense(1, useBias: false), randn(6, 3), [6, 1], trainableWeights: 1, parameters: 3);
    }
}
