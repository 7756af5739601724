using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Merging;

public class DotTests
{
    [Fact]
    public void Call_KerasDocstringExample_GivesItsValues()
    {
        // Keras's Dot docstring: x = arange(10).reshape(1, 5, 2), y = arange(10, 20).reshape(1, 2, 5),
        // Dot(axes=(1, 2)) → [[[260, 360], [320, 445]]] (checked by hand: Σₖ 2k·(10 + k) = 260, ...).
        var x = arange(10, dtype: ScalarType.Float64).reshape(1, 5, 2);
        var y = arange(10, 20, dtype: ScalarType.Float64).reshape(1, 2, 5);
        var output = new Dot([1, 2], dtype: ScalarType.Float64).Call([x, y]);
        TensorAssert.Close(tensor(new double[,,] { { { 260, 360 }, { 320, 445 } } }), output, atol: 0, what: "docstring example");
    }

    /// <summary>Keras's batch_dot written out with loops: x's axes without a, then y's without the batch and b.</summary>
    private static Tensor Reference(Tensor x, Tensor y, int a, int b, bool normalize)
    {
        var xs = x.shape;
        var ys = y.shape;
        var xd = x.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        var yd = y.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        long[] Strides(long[] s) { var st = new long[s.Length]; long acc = 1; for (int k = s.Length - 1; k >= 0; k--) { st[k] = acc; acc *= s[k]; } return st; }
        var xst = Strides(xs);
        var yst = Strides(ys);
        var xOther = Enumerable.Range(1, xs.Length - 1).Where(k => k != a).ToArray();
        var yOther = Enumerable.Range(1, ys.Length - 1).Where(k => k != b).ToArray();
        long[] outShape = [xs[0], .. xOther.Select(k => xs[k]), .. yOther.Select(k => ys[k])];
        long count = outShape.Aggregate(1L, (p, q) => p * q);
        var result = new double[count];
        var outStrides = Strides(outShape);
        for (long flat = 0; flat < count; flat++)
        {
            var idx = outShape.Select((_, k) => flat / outStrides[k] % outShape[k]).ToArray();
            var xi = new long[xs.Length];
            var yi = new long[ys.Length];
            xi[0] = yi[0] = idx[0];
            for (int k = 0; k < xOther.Length; k++) xi[xOther[k]] = idx[1 + k];
            for (int k = 0; k < yOther.Length; k++) yi[yOther[k]] = idx[1 + xOther.Length + k];
            double sum = 0, nx = 0, ny = 0;
            for (long d = 0; d < xs[a]; d++)
            {
                xi[a] = d;
                yi[b] = d;
                double p = xd[xi.Select((v, k) => v * xst[k]).Sum()], q = yd[yi.Select((v, k) => v * yst[k]).Sum()];
                sum += p * q;
                nx += p * p;
                ny += q * q;
            }
            result[flat] = normalize ? sum / Math.Sqrt(Math.Max(nx, 1e-14)) / Math.Sqrt(Math.Max(ny, 1e-14)) : sum;
        }
        return tensor(result).reshape(outShape.Length == 1 ? [outShape[0], 1] : outShape);
    }

    public static TheoryData<long[], long[], int[], bool> Cases => new()
    {
        { [3, 4, 5], [3, 6, 5], [2, 2], false },       // attention scores (batch, Tq, Tv)
        { [3, 4, 5], [3, 4, 6], [1, 1], true },         // over time, cosine
        { [2, 3, 4, 5], [2, 5, 6], [-1, 1], false },    // rank 4 with rank 3
        { [2, 2, 3, 4], [2, 4, 3], [-2, -1], false },  // negative axes of different ranks
        { [4, 7], [4, 7], [1, 1], true },               // vectors: (batch, 1)
        { [4, 7], [4, 3, 7], [-1, -1], false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Call_MatchesBatchDotWrittenWithLoops(long[] xShape, long[] yShape, int[] axes, bool normalize)
    {
        manual_seed(6);
        var x = randn(xShape, dtype: ScalarType.Float64);
        var y = randn(yShape, dtype: ScalarType.Float64);
        var layer = new Dot(axes, normalize, dtype: ScalarType.Float64);
        var output = layer.Call([x, y]);
        int a = axes[0] < 0 ? axes[0] + xShape.Length : axes[0], b = axes[1] < 0 ? axes[1] + yShape.Length : axes[1];
        var expected = Reference(x, y, a, b, normalize);
        TensorAssert.Close(expected, output, atol: 1e-12, what: "batch dot");
        Assert.Equal(expected.shape[1..], layer.OutputShape);
    }

    [Fact]
    public void Call_Normalize_GradientMatchesFiniteDifferences()
    {
        manual_seed(7);
        var x = randn(2, 3, 4, dtype: ScalarType.Float64).requires_grad_(true);
        var y = randn(2, 5, 4, dtype: ScalarType.Float64);
        var probe = randn(2, 3, 5, dtype: ScalarType.Float64);
        var layer = new Dot(-1, normalize: true, dtype: ScalarType.Float64);
        (layer.Call([x, y]) * probe).sum().backward();
        var flat = x.detach().clone().reshape(-1);
        var grad = x.grad!.reshape(-1);
        const double h = 1e-6;
        for (int k = 0; k < flat.shape[0]; k++)
        {
            var plus = flat.clone(); plus[k] += h;
            var minus = flat.clone(); minus[k] -= h;
            double fp = (layer.Call([plus.reshape(2, 3, 4), y]) * probe).sum().item<double>();
            double fm = (layer.Call([minus.reshape(2, 3, 4), y]) * probe).sum().item<double>();
            Assert.Equal((fp - fm) / (2 * h), grad[k].item<double>(), 6);
        }
    }

    [Fact]
    public void Call_BadInput_NamesTheLayerAxesAndShapes()
    {
        var size = Assert.Throws<ArgumentException>(() => new Dot(-1, name: "dot_a").Call([zeros(2, 3, 4), zeros(2, 3, 5)]));
        Assert.Contains("'dot_a'", size.Message);
        Assert.Contains("(None, 3, 4)", size.Message);
        Assert.Contains("(None, 3, 5)", size.Message);
        var axis = Assert.Throws<ArgumentException>(() => new Dot([3, 1], name: "dot_b").Call([zeros(2, 3, 4), zeros(2, 3, 5)]));
        Assert.Contains("axes [3, 1]", axis.Message);
        var count = Assert.Throws<ArgumentException>(() => new Dot(1, name: "dot_c").Call([zeros(2, 3), zeros(2, 3), zeros(2, 3)]));
        Assert.Contains("expects 2 inputs. Received: 3", count.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dot(0));
        Assert.Throws<ArgumentException>(() => new Dot([1, 2, 3]));
    }

    [Fact]
    public void CallWithMasks_OutputHasNoMask()
    {
        var (_, mask) = new Dot(-1).CallWithMasks([ones(2, 3, 4), ones(2, 3, 4)], [ones(2, 3, dtype: ScalarType.Bool), ones(2, 3, dtype: ScalarType.Bool)], null);
        Assert.Null(mask);
    }

    [Fact]
    public void FromConfig_GetConfig_KeepsIntegerOrPairAxes()
    {
        var single = new Dot(2, normalize: true).GetConfig();
        Assert.Equal(2, single["axes"]);
        Assert.Equal(true, single["normalize"]);
        var pair = (Dot)Layer.FromConfig("Dot", new Dot([1, -1]).GetConfig());
        Assert.Equal(new[] { 1, -1 }, pair.Axes);
        Assert.Equal(2, ((Dot)Layer.FromConfig("Dot", single)).Axes[0]);
    }
}
