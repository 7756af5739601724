using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Attention;

/// <summary>
/// Attention (Luong) and AdditiveAttention (Bahdanau): Keras's own expected values, a float64
/// reference written with loops (scores, masks, softmax by hand), dropout, finite-difference
/// gradients, shapes and bad input.
/// </summary>
public class AttentionTests
{
    private static readonly Dictionary<string, object?> Scores = new() { ["return_attention_scores"] = true };

    // keras-team/keras keras/src/layers/attention/attention_test.py and additive_attention_test.py
    // (commit 3422977a), test_attention_correctness and test_attention_with_mask.
    private static readonly Tensor Query = tensor(new double[,,] { { { 1, 0 }, { 0, 1 } } });
    private static readonly Tensor Key = tensor(new double[,,] { { { 0, 1 }, { 1, 0 } } });
    private static readonly Tensor Value = tensor(new double[,,] { { { 1, 2 }, { 3, 4 } } });

    [Theory]
    [InlineData("dot", 2.462, 3.462, 1.538, 2.538, 0.269, 0.731)]
    [InlineData("concat", 1.727, 2.727, 2.272, 3.272, 0.636, 0.363)]
    [InlineData("additive", 1.727, 2.727, 2.272, 3.272, 0.636, 0.363)]
    public void Call_KerasCorrectnessCase_GivesKerasValues(string mode, double o00, double o01, double o10, double o11, double s00, double s01)
    {
        MultiInputLayer layer = mode == "additive" ? new AdditiveAttention(useScale: false) : new SeqSharp.Layers.Attention(scoreMode: mode);
        var (outputs, _) = layer.CallWithMasks([Query, Value, Key], null, Scores);
        TensorAssert.Close(tensor(new double[,,] { { { o00, o01 }, { o10, o11 } } }), outputs[0], atol: 1e-3, what: "output");
        TensorAssert.Close(tensor(new double[,,] { { { s00, s01 }, { s01, s00 } } }), outputs[1], atol: 1e-3, what: "scores");
    }

    [Fact]
    public void CallWithMasks_KerasMaskCase_ZeroesMaskedQueriesAndIgnoresMaskedValues()
    {
        var value = tensor(new double[,,] { { { 1, 1 }, { 1, 1 } } });
        var queryMask = tensor(new[,] { { true, false } });
        var valueMask = tensor(new[,] { { true, false } });
        foreach (var layer in new MultiInputLayer[] { new SeqSharp.Layers.Attention(), new AdditiveAttention(useScale: false) })
        {
            var (outputs, mask) = layer.CallWithMasks([Query, value], [queryMask, valueMask], Scores);
            TensorAssert.Close(tensor(new double[,,] { { { 1, 1 }, { 0, 0 } } }), outputs[0], atol: 1e-6, what: $"{layer.ClassName} output");
            TensorAssert.Close(tensor(new double[,,] { { { 1, 0 }, { 1, 0 } } }), outputs[1], atol: 1e-6, what: $"{layer.ClassName} scores");
            Assert.Same(queryMask, mask);
        }
    }

    /// <summary>The layer's formula with loops in float64: scores, -1e9 on masked keys, softmax by hand, weighted sum, query mask.</summary>
    private static (Tensor Output, Tensor Weights) Reference(Tensor q, Tensor v, Tensor k, bool[,]? queryMask, bool[,]? valueMask, bool causal,
        Func<double[], double[], double> score)
    {
        long batch = q.shape[0], tq = q.shape[1], tv = v.shape[1], dim = q.shape[2], dimV = v.shape[2];
        var output = new double[batch, tq, dimV];
        var weights = new double[batch, tq, tv];
        double[] Row(Tensor t, long b, long i) => t[b, i].data<double>().ToArray();
        for (long b = 0; b < batch; b++)
        {
            for (long i = 0; i < tq; i++)
            {
                var s = new double[tv];
                for (long j = 0; j < tv; j++)
                {
                    s[j] = score(Row(q, b, i), Row(k, b, j));
                    bool keep = (valueMask is null || valueMask[b, j]) && (!causal || j <= i);
                    if (!keep)
                        s[j] -= 1e9;
                }
                double max = s.Max();
                var e = s.Select(x => Math.Exp(x - max)).ToArray();
                double sum = e.Sum();
                for (long j = 0; j < tv; j++)
                    weights[b, i, j] = e[j] / sum;
                for (long c = 0; c < dimV; c++)
                {
                    double acc = 0;
                    for (long j = 0; j < tv; j++)
                        acc += weights[b, i, j] * v[b, j, c].item<double>();
                    output[b, i, c] = queryMask is null || queryMask[b, i] ? acc : 0;
                }
            }
        }
        return (tensor(output), tensor(weights));
    }

    private static readonly bool[,] QueryMask = { { true, true, false, true }, { true, false, true, true } };
    private static readonly bool[,] ValueMask = { { true, false, true, true, true }, { false, true, true, false, true } };

    public static TheoryData<string, bool, bool, bool> Modes => new()
    {
        { "dot", false, false, false },
        { "dot", true, true, true },
        { "concat", true, true, false },
        { "concat", false, false, true },
        { "additive", true, true, true },
        { "additive_unscaled", false, true, false },
    };

    private static (MultiInputLayer Layer, Func<double[], double[], double> Score) Make(string mode, int dim)
    {
        switch (mode)
        {
            case "dot":
            {
                var layer = new SeqSharp.Layers.Attention(useScale: true, dtype: ScalarType.Float64);
                layer.Build([[4, dim], [5, dim]]);
                layer.SetWeights([tensor(0.7)]);
                return (layer, (q, k) => 0.7 * q.Zip(k, (a, b) => a * b).Sum());
            }
            case "concat":
            {
                var layer = new SeqSharp.Layers.Attention(useScale: true, scoreMode: "concat", dtype: ScalarType.Float64);
                layer.Build([[4, dim], [5, dim]]);
                layer.SetWeights([tensor(0.7), tensor(1.3)]);
                return (layer, (q, k) => 1.3 * q.Zip(k, (a, b) => Math.Tanh(0.7 * (a + b))).Sum());
            }
            case "additive":
            {
                var layer = new AdditiveAttention(dtype: ScalarType.Float64);
                layer.Build([[4, dim], [5, dim]]);
                var scale = Enumerable.Range(0, dim).Select(d => 0.5 + 0.25 * d).ToArray();
                layer.SetWeights([tensor(scale)]);
                return (layer, (q, k) => q.Select((_, d) => scale[d] * Math.Tanh(q[d] + k[d])).Sum());
            }
            default:
                return (new AdditiveAttention(useScale: false, dtype: ScalarType.Float64), (q, k) => q.Zip(k, (a, b) => Math.Tanh(a + b)).Sum());
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void CallWithMasks_MatchesTheFormulaWrittenWithLoops(string mode, bool withKey, bool masked, bool causal)
    {
        manual_seed(11);
        var q = randn(2, 4, 6, dtype: ScalarType.Float64);
        var v = randn(2, 5, 3, dtype: ScalarType.Float64);
        var k = withKey ? randn(2, 5, 6, dtype: ScalarType.Float64) : null;
        if (k is null)
            v = randn(2, 5, 6, dtype: ScalarType.Float64);
        var (layer, score) = Make(mode, 6);
        var args = new Dictionary<string, object?> { ["return_attention_scores"] = true, ["use_causal_mask"] = causal };
        var inputs = k is null ? new[] { q, v } : new[] { q, v, k };
        Tensor?[]? masks = masked ? (k is null ? [tensor(QueryMask), tensor(ValueMask)] : [tensor(QueryMask), tensor(ValueMask), null]) : null;
        var (outputs, mask) = layer.CallWithMasks(inputs, masks, args);
        var (expectedOutput, expectedWeights) = Reference(q, v, k ?? v, masked ? QueryMask : null, masked ? ValueMask : null, causal, score);
        TensorAssert.Close(expectedOutput, outputs[0], atol: 1e-10, what: "output");
        TensorAssert.Close(expectedWeights, outputs[1], atol: 1e-10, what: "attention weights");
        Assert.Equal(masked, mask is not null);
        Assert.Equal(new[] { new long[] { 4, v.shape[2] }, new long[] { 4, 5 } }, layer.ComputeOutputShapes([[4, 6], [5, v.shape[2]]], args));
    }

    [Fact]
    public void Call_Dropout_DropsAttentionWeightsOnlyInTraining()
    {
        manual_seed(12);
        var q = randn(3, 4, 5);
        var v = randn(3, 6, 5);
        var plain = new SeqSharp.Layers.Attention();
        var dropping = new SeqSharp.Layers.Attention(dropout: 0.5, seed: 1);
        var (reference, _) = plain.CallWithMasks([q, v], null, Scores);
        var (inference, _) = dropping.CallWithMasks([q, v], null, Scores);
        TensorAssert.Close(reference[1], inference[1], atol: 0, what: "inference weights");
        TensorAssert.Close(reference[0], inference[0], atol: 0, what: "inference output");

        dropping.train();
        var (trained, _) = dropping.CallWithMasks([q, v], null, Scores);
        var kept = trained[1].ne(0);
        long dropped = kept.logical_not().sum().item<long>();
        Assert.InRange(dropped, 72 * 0.3, 72 * 0.7);   // 72 weights, each dropped with probability 0.5
        TensorAssert.Close(where(kept, reference[1] * 2, zeros_like(reference[1])), trained[1], atol: 1e-6, what: "dropped weights scaled by 1/(1 - rate)");
        TensorAssert.Close(trained[1].matmul(v), trained[0], atol: 1e-5, what: "output from the dropped weights");
    }

    [Theory]
    [InlineData("dot")]
    [InlineData("concat")]
    [InlineData("additive")]
    public void Call_Gradients_MatchFiniteDifferencesInDouble(string mode)
    {
        manual_seed(13);
        var (layer, _) = Make(mode, 3);
        var inputs = new[] { randn(2, 4, 3, dtype: ScalarType.Float64), randn(2, 5, 3, dtype: ScalarType.Float64), randn(2, 5, 3, dtype: ScalarType.Float64) };
        // No query step here has every key masked: Keras's -1e9 offset makes such a row's softmax
        // depend on scores rounded to 1e9's precision, which finite differences cannot follow.
        var masks = new Tensor?[] { tensor(QueryMask), tensor(new[,] { { true, false, true, true, true }, { true, true, false, false, true } }), null };
        var args = new Dictionary<string, object?> { ["use_causal_mask"] = true };
        var probe = randn(2, 4, 3, dtype: ScalarType.Float64);
        double Loss() => (layer.CallWithMasks(inputs, masks, args).Outputs[0] * probe).sum().item<double>();

        foreach (var x in inputs)
            x.requires_grad_(true);
        (layer.CallWithMasks(inputs, masks, args).Outputs[0] * probe).sum().backward();
        var targets = inputs.Select(x => (Tensor)x).Concat(layer.Weights).ToList();
        var grads = targets.Select(t => t.grad!.clone()).ToList();
        const double h = 1e-6;
        using var _ = no_grad();
        for (int t = 0; t < targets.Count; t++)
        {
            var flat = targets[t].view(-1);
            for (long i = 0; i < flat.shape[0]; i++)
            {
                double original = flat[i].item<double>();
                flat[i] = original + h;
                double plus = Loss();
                flat[i] = original - h;
                double minus = Loss();
                flat[i] = original;
                Assert.Equal((plus - minus) / (2 * h), grads[t].view(-1)[i].item<double>(), 6);
            }
        }
    }

    [Fact]
    public void Build_Weights_FollowKerasNamesShapesAndOrder()
    {
        var dot = new SeqSharp.Layers.Attention(useScale: true, scoreMode: "concat");
        dot.Build([[4, 6], [5, 3], [5, 6]]);
        Assert.Equal(new[] { "scale", "concat_score_weight" }, dot.named_parameters().Select(p => p.name));
        Assert.All(dot.Weights, w => Assert.Empty(w.shape));
        Assert.All(dot.GetWeights(), w => Assert.Equal(1.0, w.item<float>()));

        var additive = new AdditiveAttention();
        additive.Build([[4, 6], [5, 3], [5, 6]]);
        Assert.Equal(new long[] { 6 }, additive.Weights.Single().shape);
        double limit = Math.Sqrt(6.0 / 12);   // Glorot uniform of a vector: fan_in = fan_out = 6
        Assert.True(additive.Weights[0].abs().max().item<float>() <= limit);
        Assert.Empty(new AdditiveAttention(useScale: false).Weights);
    }

    [Fact]
    public void Call_BadInput_NamesTheLayerAndTheShapes()
    {
        var layer = new SeqSharp.Layers.Attention(name: "att");
        var count = Assert.Throws<ArgumentException>(() => layer.Call([zeros(2, 3, 4)]));
        Assert.Contains("'att'", count.Message);
        Assert.Contains("2 to 3 inputs. Received: 1", count.Message);
        var dims = Assert.Throws<ArgumentException>(() => layer.Call([zeros(2, 3, 4), zeros(2, 5, 4), zeros(2, 5, 7)]));
        Assert.Contains("same feature size", dims.Message);
        Assert.Contains("(None, 3, 4), (None, 5, 4), (None, 5, 7)", dims.Message);
        var steps = Assert.Throws<ArgumentException>(() => layer.Call([zeros(2, 3, 4), zeros(2, 5, 4), zeros(2, 6, 4)]));
        Assert.Contains("same number of steps", steps.Message);
        var rank = Assert.Throws<ArgumentException>(() => layer.Call([zeros(2, 4), zeros(2, 4)]));
        Assert.Contains("rank 3", rank.Message);
        Assert.False(layer.Built);
        var arg = Assert.Throws<ArgumentException>(() => layer.CallWithMasks([zeros(2, 3, 4), zeros(2, 5, 4)], null, new Dictionary<string, object?> { ["attention_mask"] = null }));
        Assert.Contains("'attention_mask'", arg.Message);
        var flag = Assert.Throws<ArgumentException>(() => layer.CallWithMasks([zeros(2, 3, 4), zeros(2, 5, 4)], null, new Dictionary<string, object?> { ["use_causal_mask"] = "yes" }));
        Assert.Contains("true or false", flag.Message);
        Assert.Throws<ArgumentException>(() => new SeqSharp.Layers.Attention(scoreMode: "general"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdditiveAttention(dropout: 1.5));
    }

    [Fact]
    public void FromConfig_GetConfig_UsesKerasKeys()
    {
        var config = new SeqSharp.Layers.Attention(useScale: true, scoreMode: "concat", dropout: 0.1, seed: 1337).GetConfig();
        Assert.Equal(true, config["use_scale"]);
        Assert.Equal("concat", config["score_mode"]);
        Assert.Equal(0.1, config["dropout"]);
        Assert.Equal(1337L, config["seed"]);
        var again = (SeqSharp.Layers.Attention)Layer.FromConfig("Attention", config);
        Assert.Equal(1337L, again.Seed);
        var additive = new AdditiveAttention(useScale: false).GetConfig();
        Assert.False(additive.ContainsKey("score_mode"));
        Assert.False(((AdditiveAttention)Layer.FromConfig("AdditiveAttention", additive)).UseScale);
    }
}
