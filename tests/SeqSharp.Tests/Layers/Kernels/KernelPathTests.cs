using SeqSharp.Layers;
using SeqSharp.Layers.Kernels;
using SeqSharp.Tests.TestSupport;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Layers.Kernels;

/// <summary>
/// The fused kernels have two ways to run their per-step products: direct BLAS calls on raw memory
/// (split over batch slices on several threads) and TorchSharp products on views. Both must give
/// LibTorch's results; the other kernel tests exercise the default path, these the fallback.
/// </summary>
public class KernelPathTests
{
    public static TheoryData<string, bool, int, int> Cases => new()
    {
        // cell, peepholes, batch, steps
        { "lstm", false, 5, 40 },
        { "lstm", true, 3, 7 },
        { "rnn", false, 6, 50 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Call_WithoutDirectBlas_MatchesDirectPath(string cell, bool peepholes, int batch, int steps)
    {
        manual_seed(17);
        Rnn layer = cell == "lstm"
            ? new LSTM(12, usePeepholes: peepholes, returnSequences: true)
            : new SimpleRNN(12, returnSequences: true);
        layer.Build([steps, 3]);
        var x = randn(batch, steps, 3);
        var probe = randn(batch, steps, 12);

        var (direct, directGrads) = Run(layer, x, probe);
        Blas.Disabled = true;
        try
        {
            Assert.False(Blas.Available);
            var (fallback, fallbackGrads) = Run(layer, x, probe);
            TensorAssert.Close(direct, fallback, atol: 1e-6, what: "output");
            for (int k = 0; k < directGrads.Count; k++)
                TensorAssert.Close(directGrads[k], fallbackGrads[k], atol: 1e-5, rtol: 1e-5, what: $"gradient {k}");
        }
        finally
        {
            Blas.Disabled = false;
        }
    }

    [Fact]
    public void DirectBlas_IsAvailableOnLinuxX64()
    {
        // The x86-64 Linux LibTorch exports MKL's gemm; if this fails the kernels silently lose speed.
        if (OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64)
            Assert.True(Blas.Available);
    }

    private static (Tensor Output, List<Tensor> Gradients) Run(Rnn layer, Tensor x, Tensor probe)
    {
        var input = x.clone().requires_grad_(true);
        foreach (var w in layer.Weights)
            w.grad = null;
        var y = layer.Call(input);
        (y * probe).sum().backward();
        var grads = new List<Tensor> { input.grad!.clone() };
        grads.AddRange(layer.Weights.Select(w => w.grad!.clone()));
        return (y.detach().clone(), grads);
    }
}
