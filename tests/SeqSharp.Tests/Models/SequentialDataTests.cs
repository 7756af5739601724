using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Models;

/// <summary>
/// Bad input to <c>Fit</c>, <c>Evaluate</c> and <c>Predict</c>: a clear exception before any weight or
/// optimizer state changes, and a model that trains normally afterwards.
/// </summary>
public class SequentialDataTests
{
    private const long N = 8;

    /// <summary>A bad call, the exact exception type, and fragments of its message (<c>{layer}</c> is the first layer's name).</summary>
    private sealed record Case(Type Exception, Action<Sequential, Tensor, Tensor> Call, params string[] Fragments);

    private static Tensor With(Tensor t, long[] index, double value)
    {
        var copy = t.clone();
        copy[index.Select(i => TensorIndex.Single(i)).ToArray()] = tensor(value);
        return copy;
    }

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["fit: x and y sample counts differ"] = new(typeof(ArgumentException), (m, x, y) => m.Fit(x, y[..7], verbose: 0),
            "same number of samples", "x has 8", "y has 7"),
        ["fit: wrong feature size"] = new(typeof(ArgumentException), (m, x, y) => m.Fit(randn(N, 5, 3), y, verbose: 0),
            "Input 0 of layer '{layer}'", "expected axis -1 of the input shape to have value 2", "[8, 5, 3]"),
        ["fit: wrong rank"] = new(typeof(ArgumentException), (m, x, y) => m.Fit(randn(N, 10), y, verbose: 0),
            "expected rank 3, found rank 2", "[8, 10]"),
        ["fit: x of rank 1"] = new(typeof(ArgumentException), (m, x, y) => m.Fit(randn(N), y, verbose: 0), "rank >= 2", "[8]"),
        ["fit: y with other units"] = new(typeof(ArgumentException), (m, x, y) => m.Fit(x, randn(N, 5, 2), verbose: 0),
            "[8, 5, 2]", "(None, 5, 1)"),
        ["fit: y with other timesteps"] = new(typeof(ArgumentException), (m, x, y) => m.Fit(x, randn(N, 4, 1), verbose: 0), "[8, 4, 1]"),
        ["fit: y of rank 2 not matching"] = new(typeof(ArgumentException), (m, x, y) => m.Fit(x, randn(N, 3), verbose: 0), "[8, 3]"),
        ["fit: NaN in x"] = new(typeof(ArgumentException), (m, x, y) => m.Fit(With(x, [5, 2, 1], double.NaN), y, verbose: 0),
            "'x'", "NaN", "sample 5"),
        ["fit: infinity in y"] = new(typeof(ArgumentException), (m, x, y) => m.Fit(x, With(y, [3, 0, 0], double.PositiveInfinity), verbose: 0),
            "'y'", "infinite", "sample 3"),
        ["fit: negative infinity in validation targets"] = new(typeof(ArgumentException),
            (m, x, y) => m.Fit(x, y, verbose: 0, validationData: (x, With(y, [6, 4, 0], double.NegativeInfinity))), "validationData.Y", "sample 6"),
        ["fit: validation inputs of wrong feature size"] = new(typeof(ArgumentException),
            (m, x, y) => m.Fit(x, y, verbose: 0, validationData: (randn(3, 5, 4), randn(3, 5, 1))), "expected axis -1 of the input shape to have value 2", "[3, 5, 4]"),
        ["fit: validation sample counts differ"] = new(typeof(ArgumentException),
            (m, x, y) => m.Fit(x, y, verbose: 0, validationData: (randn(3, 5, 2), randn(2, 5, 1))), "validationData.X", "validationData.Y"),
        ["fit: NaN in sample weights"] = new(typeof(ArgumentException),
            (m, x, y) => m.Fit(x, y, verbose: 0, sampleWeight: With(ones(N), [2], double.NaN)), "sampleWeight", "sample 2"),
        ["fit: batch size 0"] = new(typeof(ArgumentOutOfRangeException), (m, x, y) => m.Fit(x, y, batchSize: 0, verbose: 0), "batchSize=0"),
        ["fit: negative batch size"] = new(typeof(ArgumentOutOfRangeException), (m, x, y) => m.Fit(x, y, batchSize: -3, verbose: 0), "batchSize=-3"),
        ["fit: validation split 1"] = new(typeof(ArgumentOutOfRangeException), (m, x, y) => m.Fit(x, y, validationSplit: 1.0, verbose: 0), "validationSplit=1"),
        ["fit: negative validation split"] = new(typeof(ArgumentOutOfRangeException), (m, x, y) => m.Fit(x, y, validationSplit: -0.1, verbose: 0), "validationSplit=-0.1"),
        ["fit: NaN validation split"] = new(typeof(ArgumentOutOfRangeException), (m, x, y) => m.Fit(x, y, validationSplit: double.NaN, verbose: 0), "validationSplit=NaN"),
        ["fit: split leaving no training sample"] = new(typeof(ArgumentException), (m, x, y) => m.Fit(x, y, validationSplit: 0.9, verbose: 0),
            "8 samples", "validationSplit=0.9"),
        ["fit: no samples"] = new(typeof(ArgumentException), (m, x, y) => m.Fit(x[..0], y[..0], verbose: 0), "no samples"),
        ["fit: verbose 3"] = new(typeof(ArgumentOutOfRangeException), (m, x, y) => m.Fit(x, y, verbose: 3), "verbose=3"),
        ["fit: verbose -1"] = new(typeof(ArgumentOutOfRangeException), (m, x, y) => m.Fit(x, y, verbose: -1), "verbose=-1"),
        ["fit: negative epochs"] = new(typeof(ArgumentOutOfRangeException), (m, x, y) => m.Fit(x, y, epochs: -1, verbose: 0), "epochs=-1"),
        ["fit: sample weights of other length"] = new(typeof(ArgumentException), (m, x, y) => m.Fit(x, y, verbose: 0, sampleWeight: ones(7)),
            "sampleWeight", "[7]"),
        ["fit: sample weights with other timesteps"] = new(typeof(ArgumentException), (m, x, y) => m.Fit(x, y, verbose: 0, sampleWeight: ones(N, 6)),
            "sampleWeight", "[8, 6]"),
        ["fit: class weights missing a class"] = new(typeof(ArgumentException),
            (m, x, y) => m.Fit(x, y.round().clamp(0, 1), verbose: 0, classWeight: new Dictionary<int, double> { [0] = 1 }),
            "classWeight has no entry for class 1"),
        ["fit: jagged arrays with null rows"] = new(typeof(ArgumentException), (m, x, y) => m.Fit(new float[N][], new float[N, 5, 1], verbose: 0),
            "null row"),
        ["fit: ragged jagged array"] = new(typeof(ArgumentException),
            (m, x, y) => m.Fit(Enumerable.Range(0, (int)N).Select(i => new int[i % 2 == 0 ? 5 : 4][]).Select(r => r.Select(_ => new int[2]).ToArray()).ToArray(), new float[N, 5, 1], verbose: 0),
            "ragged", "row 1 has 4 elements but row 0 has 5", "Utils.PadSequences"),
        ["fit: integer array of the wrong feature size"] = new(typeof(ArgumentException), (m, x, y) => m.Fit(new int[N, 5, 3], new float[N, 5, 1], verbose: 0),
            "expected axis -1 of the input shape to have value 2"),
        ["fit: decimal array"] = new(typeof(ArgumentException), (m, x, y) => m.Fit(new decimal[N, 5, 2], new float[N, 5, 1], verbose: 0),
            "float, double, int", "Decimal[,,]"),
        ["fit: null x"] = new(typeof(ArgumentNullException), (m, x, y) => m.Fit((Tensor)null!, y, verbose: 0), "x"),
        ["evaluate: sample counts differ"] = new(typeof(ArgumentException), (m, x, y) => m.Evaluate(x[..6], y, verbose: 0),
            "x has 6", "y has 8"),
        ["evaluate: wrong feature size"] = new(typeof(ArgumentException), (m, x, y) => m.Evaluate(randn(N, 5, 1), y, verbose: 0),
            "expected axis -1 of the input shape to have value 2"),
        ["evaluate: NaN in y"] = new(typeof(ArgumentException), (m, x, y) => m.Evaluate(x, With(y, [7, 1, 0], double.NaN), verbose: 0), "sample 7"),
        ["evaluate: batch size 0"] = new(typeof(ArgumentOutOfRangeException), (m, x, y) => m.Evaluate(x, y, batchSize: 0, verbose: 0), "batchSize=0"),
        ["evaluate: verbose 5"] = new(typeof(ArgumentOutOfRangeException), (m, x, y) => m.Evaluate(x, y, verbose: 5), "verbose=5"),
        ["evaluate: jagged arrays"] = new(typeof(ArgumentException), (m, x, y) => m.Evaluate(new double[N][], new double[N, 5, 1], verbose: 0), "null row"),
        ["predict: wrong rank"] = new(typeof(ArgumentException), (m, x, y) => m.Predict(randn(N, 5, 2, 1), verbose: 0), "expected rank 3, found rank 4"),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    /// <summary>An LSTM(4) → Dense(1) model compiled with Adam and trained for one epoch, so that the optimizer has state.</summary>
    private static (Sequential Model, Tensor X, Tensor Y) Trained()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(N);
        model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae"]);
        model.Fit(x, y, batchSize: 4, verbose: 0);
        return (model, x, y);
    }

    /// <summary>Runs <paramref name="call"/>, expecting an exception of exactly <paramref name="type"/>, and checks that nothing changed.</summary>
    private static Exception AssertRefusedWithoutChange(Sequential model, Type type, Action call)
    {
        var weights = model.GetWeights();
        var state = model.Optimizer?.Variables;
        bool built = model.Built;
        bool optimizerBuilt = model.Optimizer?.Built ?? false;

        var e = Assert.Throws(type, call);

        Assert.Equal(built, model.Built);
        if (built)
            TinyModels.AssertSameWeights(weights, model.GetWeights());
        Assert.Equal(optimizerBuilt, model.Optimizer?.Built ?? false);
        if (state is not null)
            TinyModels.AssertSameWeights(state, model.Optimizer!.Variables);
        return e;
    }

    /// <summary>A successful Fit after the refusals: every step taken, the weights moved, a finite loss.</summary>
    private static void AssertTrainsNormally(Sequential model, Tensor x, Tensor y)
    {
        var before = model.Built ? model.GetWeights() : null;
        long iterations = model.Optimizer!.Iterations;
        var history = model.Fit(x, y, batchSize: 4, verbose: 0);
        Assert.Equal(iterations + (x.shape[0] + 3) / 4, model.Optimizer.Iterations);
        Assert.True(double.IsFinite(history["loss"].Single()));
        if (before is not null)
        {
            var after = model.GetWeights();
            Assert.Contains(Enumerable.Range(0, after.Count), k => !before[k].allclose(after[k], rtol: 0, atol: 0));
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void BadInput_ThrowsClearExceptionBeforeAnyChange_ThenTrainsNormally(string name)
    {
        var (model, x, y) = Trained();
        var c = Cases[name];
        var e = AssertRefusedWithoutChange(model, c.Exception, () => c.Call(model, x, y));
        foreach (var fragment in c.Fragments)
            Assert.Contains(fragment.Replace("{layer}", model.Layers[0].Name), e.Message);
        AssertTrainsNormally(model, x, y);
    }

    [Fact]
    public void Fit_BeforeCompile_ThrowsInvalidOperationMentioningCompile()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(N);
        var e = AssertRefusedWithoutChange(model, typeof(InvalidOperationException), () => model.Fit(x, y, verbose: 0));
        Assert.Contains("Compile()", e.Message);
        Assert.Contains("Fit()", e.Message);
        e = AssertRefusedWithoutChange(model, typeof(InvalidOperationException), () => model.Evaluate(x, y, verbose: 0));
        Assert.Contains("Compile()", e.Message);
        Assert.Contains("Evaluate()", e.Message);

        model.Compile(optimizer: "adam", loss: "mse");
        AssertTrainsNormally(model, x, y);
    }

    [Fact]
    public void Fit_CompiledWithoutLoss_ThrowsInvalidOperationBeforeBuildingTheOptimizer()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(N);
        model.Compile(optimizer: "adam");
        var e = AssertRefusedWithoutChange(model, typeof(InvalidOperationException), () => model.Fit(x, y, verbose: 0));
        Assert.Contains("loss", e.Message);
        Assert.Contains("Compile()", e.Message);
        Assert.False(model.Optimizer!.Built);
        Assert.Equal(0, model.Optimizer.Iterations);
        Assert.Throws<InvalidOperationException>(() => model.Evaluate(x, y, verbose: 0));

        model.Compile(optimizer: "adam", loss: "mse");
        AssertTrainsNormally(model, x, y);
    }

    [Fact]
    public void Fit_UnbuiltModelGivenWrongRank_StaysUnbuiltThenBuildsFromGoodData()
    {
        var model = new Sequential([new LSTM(3, name: "encoder"), new Dense(1)]);
        model.Compile(optimizer: "adam", loss: "mse");
        var e = AssertRefusedWithoutChange(model, typeof(ArgumentException), () => model.Fit(randn(4, 5), randn(4, 1), verbose: 0));
        Assert.Contains("'encoder'", e.Message);
        Assert.False(model.Built);
        Assert.All(model.Layers, l => Assert.False(l.Built));

        AssertTrainsNormally(model, randn(6, 5, 2), randn(6, 1));
        Assert.True(model.Built);
    }

    [Fact]
    public void Fit_YWithoutTrailingAxisOfOne_IsTheOnlyShapeLeniency()
    {
        var (model, x, y) = Trained();
        // (8, 5) for an output of (8, 5, 1) is accepted, as in Keras ...
        AssertTrainsNormally(model, x, y.squeeze(-1));
        // ... but not (8, 5, 1, 1), nor (8, 1, 5).
        AssertRefusedWithoutChange(model, typeof(ArgumentException), () => model.Fit(x, y.unsqueeze(-1), verbose: 0));
        AssertRefusedWithoutChange(model, typeof(ArgumentException), () => model.Fit(x, y.transpose(1, 2), verbose: 0));
    }

    [Fact]
    public void Fit_DoubleTensorsAndIntegerTargets_ConvertedToTheModelsType()
    {
        var (model, x, y) = Trained();
        AssertTrainsNormally(model, x.to_type(ScalarType.Float64), y.to_type(ScalarType.Float64));
        AssertTrainsNormally(model, x, y.round().to_type(ScalarType.Int64));
    }
}
