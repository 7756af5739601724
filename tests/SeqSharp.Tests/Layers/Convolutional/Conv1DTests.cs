using System.Runtime.InteropServices;
using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Convolutional;

public class Conv1DTests
{
    public static TheoryData<string, int, int, int, int> Cases => new()
    {
        // padding, kernelSize, strides, dilationRate, steps
        { "valid", 3, 1, 1, 9 },
        { "valid", 3, 2, 1, 9 },
        { "valid", 4, 3, 1, 10 },
        { "valid", 3, 1, 2, 9 },
        { "same", 3, 1, 1, 9 },
        { "same", 4, 1, 1, 9 },     // even kernel: the odd padding step goes at the end
        { "same", 3, 2, 1, 10 },
        { "same", 5, 3, 1, 11 },
        { "same", 3, 1, 3, 8 },
        { "causal", 3, 1, 1, 7 },
        { "causal", 2, 1, 4, 9 },
        { "causal", 3, 2, 1, 8 },
        { "valid", 1, 1, 1, 4 },
    };

    /// <summary>Keras's convolution written out: pad (TensorFlow's split, or causal), then cross-correlate.</summary>
    private static double[,,] Reference(double[,,] x, double[,,] kernel, double[] bias, string padding, int stride, int dilation)
    {
        int batch = x.GetLength(0), steps = x.GetLength(1), channels = x.GetLength(2), size = kernel.GetLength(0), filters = kernel.GetLength(2);
        int extent = dilation * (size - 1) + 1;
        int outSteps, before;
        if (padding == "valid")
        {
            outSteps = (steps - extent) / stride + 1;
            before = 0;
        }
        else
        {
            outSteps = (steps + stride - 1) / stride;
            int total = Math.Max((outSteps - 1) * stride + extent - steps, 0);
            before = padding == "causal" ? extent - 1 : total / 2;
        }
        var y = new double[batch, outSteps, filters];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < outSteps; t++)
                for (int f = 0; f < filters; f++)
                {
                    double sum = bias[f];
                    for (int j = 0; j < size; j++)
                    {
                        int source = t * stride + j * dilation - before;
                        if (source < 0 || source >= steps)
                            continue;   // a padding zero
                        for (int c = 0; c < channels; c++)
                            sum += x[b, source, c] * kernel[j, c, f];
                    }
                    y[b, t, f] = sum;
                }
        return y;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Call_MatchesHandWrittenFloat64Convolution(string padding, int kernelSize, int strides, int dilationRate, int steps)
    {
        manual_seed(kernelSize * 100 + steps);
        var layer = new Conv1D(4, kernelSize, strides: strides, padding: padding, dilationRate: dilationRate, dtype: ScalarType.Float64);
        var x = randn(2, steps, 3, dtype: ScalarType.Float64);
        layer.Build([steps, 3]);
        using (no_grad())
            layer.Weights[1].uniform_(-0.5, 0.5);
        var expected = tensor(Reference(Array3(x), Array3(layer.Weights[0]), layer.Weights[1].data<double>().ToArray(), padding, strides, dilationRate));
        var y = layer.Call(x);
        TensorAssert.Close(expected, y, atol: 1e-12, what: $"{padding} k{kernelSize} s{strides} d{dilationRate}");
        Assert.Equal(expected.shape[1..], layer.ComputeOutputShape([steps, 3]));
    }

    [Fact]
    public void Call_Causal_OutputDoesNotSeeTheFuture()
    {
        var layer = new Conv1D(2, 3, padding: "causal", dilationRate: 2);
        var x = randn(1, 10, 2);
        var y = layer.Call(x);
        var changed = x.clone();
        changed[0, 6] = randn(2);
        var z = layer.Call(changed);
        TensorAssert.Close(y[.., ..6], z[.., ..6], atol: 0, what: "steps before the change");
        Assert.True((y[.., 6] - z[.., 6]).abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Gradients_MatchFiniteDifferencesInFloat64()
    {
        manual_seed(3);
        var layer = new Conv1D(2, 3, strides: 2, padding: "same", activation: "tanh", dtype: ScalarType.Float64);
        var x = randn(2, 7, 3, dtype: ScalarType.Float64).requires_grad_(true);
        var y = layer.Call(x);
        var probe = randn_like(y);
        var analytic = autograd.grad([(y * probe).sum()], [x, layer.Weights[0], layer.Weights[1]]);
        Tensor[] wrt = [x, layer.Weights[0], layer.Weights[1]];
        for (int k = 0; k < wrt.Length; k++)
        {
            var values = MemoryMarshal.Cast<byte, double>(wrt[k].bytes);
            var exact = analytic[k].contiguous().data<double>().ToArray();
            for (int i = 0; i < values.Length; i++)
            {
                double original = values[i];
                values[i] = original + 1e-6;
                double plus = Loss();
                values[i] = original - 1e-6;
                double minus = Loss();
                values[i] = original;
                Assert.Equal(exact[i], (plus - minus) / 2e-6, 1e-7);
            }
        }

        double Loss()
        {
            using var _ = no_grad();
            return (layer.Call(x) * probe).sum().item<double>();
        }
    }

    [Fact]
    public void LayerHarness_KerasKernelLayoutAndParameterCount()
    {
        var layer = new Conv1D(5, 3, activation: "relu");
        LayerHarness.Run(layer, randn(2, 8, 4), [2, 6, 5], trainableWeights: 2, parameters: 3 * 4 * 5 + 5);
        Assert.Equal(new long[] { 3, 4, 5 }, layer.Weights[0].shape);
    }

    [Fact]
    public void Build_TooFewStepsForValidPadding_ThrowsWithNeededSteps()
    {
        var e = Assert.Throws<ArgumentException>(() => new Sequential([new Conv1D(2, 3, dilationRate: 2, inputShape: [4, 1], name: "c")]));
        Assert.Contains("'c' needs at least 5 steps", e.Message);
    }

    [Fact]
    public void Constructor_InvalidArguments_SayWhatWasReceived()
    {
        Assert.Contains("padding=\"full\"", Assert.Throws<ArgumentException>(() => new Conv1D(2, 3, padding: "full")).Message);
        Assert.Contains("filters=0", Assert.Throws<ArgumentOutOfRangeException>(() => new Conv1D(0, 3)).Message);
        Assert.Contains("strides=2 and dilationRate=2", Assert.Throws<ArgumentOutOfRangeException>(() => new Conv1D(2, 3, strides: 2, dilationRate: 2)).Message);
        Assert.Equal("same", new Conv1D(2, 3, padding: "SAME").Padding);
    }

    private static double[,,] Array3(Tensor t)
    {
        var a = new double[t.shape[0], t.shape[1], t.shape[2]];
        var v = t.contiguous().data<double>().ToArray();
        Buffer.BlockCopy(v, 0, a, 0, v.Length * sizeof(double));
        return a;
    }
}
