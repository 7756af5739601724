using SeqSharp.Initializers;
using SeqSharp.Tests.TestSupport;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Initializers;

[Collection(SeededCollection.Name)]
public class InitializerTests
{
    // fanIn 300, fanOut 500: 150 000 samples, so the sample std is within about 0.2% of the true one.
    private static readonly long[] Kernel = [300, 500];

    public static TheoryData<string, double> UniformLimits => new()
    {
        // name, limit for fanIn 300 / fanOut 500 (Keras: sqrt(3 scale / n))
        { "glorot_uniform", Math.Sqrt(6.0 / (300 + 500)) },
        { "he_uniform", Math.Sqrt(6.0 / 300) },
        { "lecun_uniform", Math.Sqrt(3.0 / 300) },
    };

    public static TheoryData<string, double> NormalStds => new()
    {
        // name, standard deviation of the (truncated) samples for fanIn 300 / fanOut 500
        { "glorot_normal", Math.Sqrt(2.0 / (300 + 500)) },
        { "he_normal", Math.Sqrt(2.0 / 300) },
        { "lecun_normal", Math.Sqrt(1.0 / 300) },
    };

    [Theory]
    [MemberData(nameof(UniformLimits))]
    public void Create_Uniform_WithinLimitAndUniformStd(string name, double limit)
    {
        manual_seed(1);
        var w = Initializer.Get(name).Create(Kernel, ScalarType.Float32);
        Assert.Equal(Kernel, w.shape);
        Assert.Equal(ScalarType.Float32, w.dtype);
        double max = w.abs().max().item<float>();
        Assert.True(max <= limit, $"{name}: max |w| {max} above the limit {limit}.");
        Assert.True(max > 0.99 * limit, $"{name}: max |w| {max} far below the limit {limit}.");
        Assert.InRange(w.std().item<float>(), 0.98 * limit / Math.Sqrt(3), 1.02 * limit / Math.Sqrt(3));
        Assert.InRange(w.mean().item<float>(), -0.01 * limit, 0.01 * limit);
    }

    [Theory]
    [MemberData(nameof(NormalStds))]
    public void Create_TruncatedNormal_WithinTwoStdAndKerasStd(string name, double std)
    {
        manual_seed(2);
        var w = Initializer.Get(name).Create(Kernel, ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, w.dtype);
        // Keras draws from N(0, σ) truncated at ±2σ with σ = std / 0.8796, so that the samples have std `std`.
        double sigma = std / 0.87962566103423978;
        double max = w.abs().max().item<double>();
        Assert.True(max <= 2 * sigma, $"{name}: max |w| {max} beyond the truncation bound 2σ = {2 * sigma}.");
        Assert.True(max > 0.99 * 2 * sigma, $"{name}: max |w| {max} far inside 2σ = {2 * sigma}.");
        Assert.InRange(w.std().item<double>(), 0.98 * std, 1.02 * std);
        Assert.InRange(w.mean().item<double>(), -0.01 * std, 0.01 * std);
    }

    [Fact]
    public void Create_Rank3Shape_UsesReceptiveFieldInFans()
    {
        manual_seed(3);
        // Fans (3·40, 3·60) = (120, 180): limit sqrt(6 / 300); without the receptive field it would be sqrt(6 / 100).
        var w = new GlorotUniform().Create([3, 40, 60], ScalarType.Float32);
        double limit = Math.Sqrt(6.0 / 300);
        double max = w.abs().max().item<float>();
        Assert.InRange(max, 0.99 * limit, limit);
    }

    [Fact]
    public void VarianceScaling_UntruncatedNormalAndFanOut_FollowKeras()
    {
        manual_seed(4);
        var w = new VarianceScaling(scale: 3.0, mode: "fan_out", distribution: "untruncated_normal").Create(Kernel, ScalarType.Float64);
        double std = Math.Sqrt(3.0 / 500);
        Assert.InRange(w.std().item<double>(), 0.98 * std, 1.02 * std);
        // Untruncated: values beyond 3σ exist among 150 000 samples.
        Assert.True(w.abs().max().item<double>() > 3 * std);
    }

    [Fact]
    public void VarianceScaling_BadArguments_SayWhatWasReceived()
    {
        Assert.Contains("scale=0", Assert.Throws<ArgumentOutOfRangeException>(() => new VarianceScaling(scale: 0)).Message);
        Assert.Contains("'fan_x'", Assert.Throws<ArgumentException>(() => new VarianceScaling(mode: "fan_x")).Message);
        Assert.Contains("'cauchy'", Assert.Throws<ArgumentException>(() => new VarianceScaling(distribution: "cauchy")).Message);
        Assert.Equal("truncated_normal", new VarianceScaling(distribution: "normal").Distribution);
    }

    public static TheoryData<long[], double> OrthogonalShapes => new()
    {
        { new long[] { 3, 7 }, 1.0 },     // wide: orthonormal rows
        { new long[] { 7, 3 }, 1.0 },     // tall: orthonormal columns
        { new long[] { 5, 5 }, 1.0 },     // square: both
        { new long[] { 6, 6 }, 2.0 },     // gain
        { new long[] { 4, 9 }, 0.5 },
        { new long[] { 2, 3, 8 }, 1.0 },  // rank 3: flattened to (6, 8), orthonormal rows
    };

    [Theory]
    [MemberData(nameof(OrthogonalShapes))]
    public void Orthogonal_Create_IsOrthonormalTimesGain(long[] shape, double gain)
    {
        manual_seed(5);
        var w = new Orthogonal(gain).Create(shape, ScalarType.Float64);
        Assert.Equal(shape, w.shape);
        long rows = shape[..^1].Aggregate(1L, (a, b) => a * b), cols = shape[^1];
        var m = w.reshape(rows, cols);
        double g2 = gain * gain;
        if (rows <= cols)
            TensorAssert.Close(g2 * eye(rows, dtype: ScalarType.Float64), m.matmul(m.t()), atol: 1e-12, what: "W Wᵀ");
        if (rows >= cols)
            TensorAssert.Close(g2 * eye(cols, dtype: ScalarType.Float64), m.t().matmul(m), atol: 1e-12, what: "Wᵀ W");
    }

    [Fact]
    public void Orthogonal_Float32_OrthonormalAndRandom()
    {
        manual_seed(6);
        var a = new Orthogonal().Create([16, 16], ScalarType.Float32);
        var b = new Orthogonal().Create([16, 16], ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, a.dtype);
        TensorAssert.Close(eye(16), a.matmul(a.t()), atol: 1e-5, what: "U Uᵀ");
        Assert.False(a.allclose(b), "Two draws gave the same matrix.");
        Assert.False(a.allclose(eye(16), atol: 0.1), "The matrix is (close to) the identity.");
    }

    [Fact]
    public void Orthogonal_Rank1Shape_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new Orthogonal().Create([5], ScalarType.Float32));
        Assert.Contains("shape=[5]", e.Message);
    }

    [Fact]
    public void ZerosOnesConstant_FillExactly()
    {
        Assert.Equal(0.0, new Zeros().Create([3, 4], ScalarType.Float64).abs().max().item<double>());
        var ones = new Ones().Create([7], ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, ones.dtype);
        Assert.True(ones.allclose(torch.ones(7), rtol: 0, atol: 0));
        Assert.True(new Constant(2.5).Create([2, 2], ScalarType.Float64).allclose(full(2, 2, 2.5, ScalarType.Float64), rtol: 0, atol: 0));
    }

    [Fact]
    public void RandomUniformAndNormal_DefaultsFollowKeras()
    {
        manual_seed(7);
        var u = new RandomUniform().Create(Kernel, ScalarType.Float64);
        Assert.InRange(u.min().item<double>(), -0.05, -0.0499);
        Assert.InRange(u.max().item<double>(), 0.0499, 0.05);
        var n = new RandomNormal().Create(Kernel, ScalarType.Float64);
        Assert.InRange(n.std().item<double>(), 0.049, 0.051);
        Assert.Contains("maxval", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomUniform(1, 1)).Message);
    }

    [Theory]
    [InlineData("glorot_uniform", typeof(GlorotUniform))]
    [InlineData("glorot_normal", typeof(GlorotNormal))]
    [InlineData("he_uniform", typeof(HeUniform))]
    [InlineData("he_normal", typeof(HeNormal))]
    [InlineData("lecun_uniform", typeof(LecunUniform))]
    [InlineData("lecun_normal", typeof(LecunNormal))]
    [InlineData("orthogonal", typeof(Orthogonal))]
    [InlineData("zeros", typeof(Zeros))]
    [InlineData("ones", typeof(Ones))]
    [InlineData("random_uniform", typeof(RandomUniform))]
    [InlineData("random_normal", typeof(RandomNormal))]
    public void Get_KerasName_ReturnsThatInitializer(string name, Type type)
    {
        Assert.IsType(type, Initializer.Get(name));
        Initializer converted = name;
        Assert.IsType(type, converted);
        Assert.Equal(type.Name, converted.ClassName);
    }

    [Fact]
    public void Get_UnknownName_ListsValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => Initializer.Get("xavier"));
        Assert.Contains("'xavier'", e.Message);
        foreach (string name in new[] { "glorot_uniform", "orthogonal", "zeros", "he_normal", "lecun_uniform" })
            Assert.Contains(name, e.Message);
    }

    public static TheoryData<long[], double, double> Fans => new()
    {
        { Array.Empty<long>(), 1, 1 },
        { new long[] { 5 }, 5, 5 },
        { new long[] { 3, 4 }, 3, 4 },
        { new long[] { 2, 3, 4 }, 6, 8 },        // receptive field 2
        { new long[] { 3, 3, 16, 32 }, 144, 288 }, // a 3x3 convolution kernel
    };

    [Theory]
    [MemberData(nameof(Fans))]
    public void ComputeFans_FollowsKerasRule(long[] shape, double fanIn, double fanOut)
    {
        Assert.Equal((fanIn, fanOut), Initializer.ComputeFans(shape));
    }

    [Fact]
    public void SetRandomSeed_SameSeed_SameValues()
    {
        Utils.SetRandomSeed(42);
        var a = new GlorotUniform().Create([20, 30], ScalarType.Float32);
        var na = new HeNormal().Create([20, 30], ScalarType.Float32);
        Utils.SetRandomSeed(42);
        var b = new GlorotUniform().Create([20, 30], ScalarType.Float32);
        var nb = new HeNormal().Create([20, 30], ScalarType.Float32);
        Assert.True(a.allclose(b, rtol: 0, atol: 0));
        Assert.True(na.allclose(nb, rtol: 0, atol: 0));
        Utils.SetRandomSeed(43);
        Assert.False(a.allclose(new GlorotUniform().Create([20, 30], ScalarType.Float32)));

        manual_seed(42);
        Assert.True(a.allclose(new GlorotUniform().Create([20, 30], ScalarType.Float32), rtol: 0, atol: 0));
    }

    [Fact]
    public void SetRandomSeed_SameSeed_SameLayerWeights()
    {
        Utils.SetRandomSeed(9);
        var first = new LSTM(6, usePeepholes: true);
        first.Build([4, 3]);
        Utils.SetRandomSeed(9);
        var second = new LSTM(6, usePeepholes: true);
        second.Build([4, 3]);
        for (int k = 0; k < first.Weights.Count; k++)
            Assert.True(first.Weights[k].allclose(second.Weights[k], rtol: 0, atol: 0), $"Weight {k} differs.");
    }
}
