using System.Runtime.Intrinsics.X86;
using SeqSharp.Layers;
using SeqSharp.Layers.Kernels;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Layers.Kernels;

/// <summary>
/// The AVX-512 product of the recurrent kernels' per-step products, checked against sums in
/// float64: full and edge tiles (rows not a multiple of 8, columns not a multiple of 32), a
/// transposed right-hand matrix, and both betas.
/// </summary>
public class Avx512GemmTests(ITestOutputHelper output)
{
    public static TheoryData<int, int, int, bool, float> Shapes => new()
    {
        // m, n, k, transpose, beta
        { 8, 32, 1, false, 0f },
        { 1, 32, 5, false, 1f },
        { 3, 52, 7, false, 1f },
        { 13, 80, 20, true, 0f },
        { 17, 1024, 256, false, 1f },
        { 32, 256, 1024, true, 0f },
        { 40, 96, 64, true, 1f },
        { 9, 4, 33, false, 1f },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public unsafe void Multiply_AnyShape_MatchesFloat64Sums(int m, int n, int k, bool transpose, float beta)
    {
        if (!Avx512Gemm.IsSupported)
        {
            // Said in the output; the kernels use MKL on this CPU, which the other kernel tests cover.
            output.WriteLine($"This CPU has no AVX-512 (Avx512F.IsSupported = {Avx512F.IsSupported}): the AVX-512 product is not used here and was not run.");
            return;
        }
        var random = new Random(m * 1000 + n + k);
        float[] a = Fill(random, m * k), b = Fill(random, n * k), c = Fill(random, m * n);
        var expected = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = beta * (double)c[i * n + j];
                for (int q = 0; q < k; q++)
                    sum += (double)a[i * k + q] * (transpose ? b[j * k + q] : b[q * n + j]);
                expected[i * n + j] = sum;
            }
        }
        float* packed = Avx512Gemm.Allocate(n, k);
        try
        {
            fixed (float* pa = a, pb = b, pc = c)
            {
                Avx512Gemm.Pack(n, k, pb, transpose ? k : n, transpose, packed);
                Avx512Gemm.Multiply(m, n, k, pa, k, packed, beta, pc, n);
            }
        }
        finally
        {
            Avx512Gemm.Free(packed);
        }
        double worst = 0;
        for (int i = 0; i < m * n; i++)
            worst = Math.Max(worst, Math.Abs(c[i] - expected[i]) / (1 + Math.Abs(expected[i])));
        output.WriteLine($"max relative difference vs float64: {worst:E2}");
        Assert.True(worst < 2e-6 * Math.Sqrt(k), $"({m} x {k}) · ({k} x {n}): {worst:E2} from float64");
    }

    /// <summary>
    /// The blocked large product (k in blocks of 256, rows in blocks of 64, threads over row blocks)
    /// on plain and transposed views, with a bias and accumulating, against float64 products.
    /// </summary>
    [Theory]
    [InlineData(130, 70, 300, false, false)]
    [InlineData(300, 1024, 257, false, true)]
    [InlineData(96, 200, 640, true, false)]
    [InlineData(65, 33, 1030, true, true)]
    public void LargeProducts_PlainAndTransposedViews_MatchFloat64(int m, int n, int k, bool transposeA, bool transposeB)
    {
        manual_seed(m + n + k);
        var a = transposeA ? randn(k, m).t() : randn(m, k);
        var b = transposeB ? randn(n, k).t() : randn(k, n);
        var bias = randn(n);
        var expected = a.to(ScalarType.Float64).mm(b.to(ScalarType.Float64));
        double scale = Math.Sqrt(k);

        var product = LargeProducts.Product(a, b);
        TensorAssert.Close(expected.to(ScalarType.Float32), product, atol: 2e-6 * scale, rtol: 1e-5, what: "a · b");
        var withBias = LargeProducts.Product(a, b, bias);
        TensorAssert.Close((expected + bias.to(ScalarType.Float64)).to(ScalarType.Float32), withBias, atol: 2e-6 * scale, rtol: 1e-5, what: "a · b + bias");
        var sum = randn(m, n);
        var expectedSum = sum.to(ScalarType.Float64) + expected;
        LargeProducts.AddProduct(sum, a, b);
        TensorAssert.Close(expectedSum.to(ScalarType.Float32), sum, atol: 2e-6 * scale, rtol: 1e-5, what: "c += a · b");
        output.WriteLine($"({m} x {k}) · ({k} x {n}), A transposed {transposeA}, B transposed {transposeB}: " +
            $"max |diff| vs float64 {(product.to(ScalarType.Float64) - expected).abs().max().item<double>():E2}, AVX-512 path taken: {Avx512Gemm.IsSupported}");
    }

    [Fact]
    public unsafe void PackedRight_TakesAvx512ForFloat32Slices_AndBlasForFloat64()
    {
        var b = new float[64 * 32];
        var d = new double[64 * 32];
        fixed (float* pb = b)
        fixed (double* pd = d)
        {
            using var single = new PackedRight<float>(32, 32, 64, pb, 32, transpose: false);
            using var one = new PackedRight<float>(1, 32, 64, pb, 32, transpose: false);
            using var twice = new PackedRight<double>(32, 32, 64, pd, 32, transpose: false);
            output.WriteLine($"float32, 32 rows: {single.Path}; 1 row: {one.Path}; float64: {twice.Path}");
            Assert.Equal(Avx512Gemm.IsSupported ? "avx512" : Blas.PackingAvailable ? "mkl-packed" : "blas", single.Path);
            Assert.Equal("blas", one.Path);
            Assert.Equal("blas", twice.Path);
        }
    }

    /// <summary>
    /// A recurrent layer whose slices take the packed products (13 rows: an edge tile of 5; 20 units:
    /// gate widths of 80 and 60, partial panels), forward and backward, against the same layer in float64.
    /// With 20 units LSTM's 512-bit gate pass (<see cref="LstmCell512"/>) runs 16 lanes and its scalar tail 4.
    /// </summary>
    [Theory]
    [InlineData("lstm")]
    [InlineData("lstm-peepholes")]
    [InlineData("gru")]
    [InlineData("rnn")]
    public void Layer_OnPackedProducts_MatchesFloat64(string cell)
    {
        manual_seed(29);
        Rnn Make(ScalarType dtype) => cell switch
        {
            "lstm" => new LSTM(20, returnSequences: true, dtype: dtype),
            "lstm-peepholes" => new LSTM(20, usePeepholes: true, returnSequences: true, dtype: dtype),
            "gru" => new GRU(20, returnSequences: true, dtype: dtype),
            _ => new SimpleRNN(20, returnSequences: true, dtype: dtype),
        };
        var layer = Make(ScalarType.Float32);
        layer.Build([30, 7]);
        var reference = Make(ScalarType.Float64);
        reference.Build([30, 7]);
        using (no_grad())
        {
            for (int i = 0; i < layer.Weights.Count; i++)
                reference.Weights[i].copy_(layer.Weights[i]);
        }
        var x = randn(13, 30, 7);
        var probe = randn(13, 30, 20);
        var (y, grads) = Run(layer, x, probe);
        var (y64, grads64) = Run(reference, x.to(ScalarType.Float64), probe.to(ScalarType.Float64));
        TensorAssert.Close(y64.to(ScalarType.Float32), y, atol: 1e-5, what: "output");
        for (int i = 0; i < grads.Count; i++)
            TensorAssert.Close(grads64[i].to(ScalarType.Float32), grads[i], atol: 1e-4, rtol: 1e-4, what: $"gradient {i}");
        using (no_grad())
        {
            // Inference takes its own loop (chunked input projections): also against float64.
            TensorAssert.Close(y64.to(ScalarType.Float32), layer.Call(x), atol: 1e-5, what: "inference output");
        }
    }

    private static (Tensor Output, List<Tensor> Gradients) Run(Rnn layer, Tensor x, Tensor probe)
    {
        var input = x.clone().requires_grad_(true);
        var y = layer.Call(input);
        (y * probe).sum().backward();
        var grads = new List<Tensor> { input.grad!.clone() };
        grads.AddRange(layer.Weights.Select(w => w.grad!.clone()));
        return (y.detach().clone(), grads);
    }

    private static float[] Fill(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
