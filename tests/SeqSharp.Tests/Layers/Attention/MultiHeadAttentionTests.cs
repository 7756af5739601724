using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Attention;

/// <summary>
/// MultiHeadAttention: Keras's own correctness case, a float64 reference written with loops (the
/// einsums, the masked softmax by hand), masks as Keras combines them, dropout, finite-difference
/// gradients, weights, shapes and bad input.
/// </summary>
public class MultiHeadAttentionTests
{
    private static readonly Dictionary<string, object?> Scores = new() { ["return_attention_scores"] = true };

    [Fact]
    public void Call_KerasCorrectnessCase_GivesKerasValues()
    {
        // keras-team/keras keras/src/layers/attention/multi_head_attention_test.py (commit 3422977a),
        // test_correctness: 8 heads of size 8, identity kernels repeated over the heads, zero biases.
        const int heads = 8, dim = 8;
        var query = eye(dim, dtype: ScalarType.Float64).unsqueeze(0);
        var value = arange(dim * dim, dtype: ScalarType.Float64).reshape(1, dim, dim) / 100.0;
        var layer = new MultiHeadAttention(heads, dim, dtype: ScalarType.Float64);
        layer.Build([[dim, dim], [dim, dim], [dim, dim]]);
        var kernel = eye(dim, dtype: ScalarType.Float64).unsqueeze(1).repeat(1, heads, 1);   // (8, 8, 8)
        var bias = zeros(heads, dim, dtype: ScalarType.Float64);
        layer.SetWeights([kernel, bias, kernel, bias, kernel, bias, kernel, zeros(dim, dtype: ScalarType.Float64)]);

        var (outputs, _) = layer.CallWithMasks([query, value, query], null, Scores);
        var expectedOutput = tensor(new[] { 2.406, 2.440, 2.473, 2.504, 2.535, 2.568, 2.602, 2.633 }).reshape(1, dim, 1).expand(1, dim, dim);
        var expectedScores = where(eye(dim).to_type(ScalarType.Bool), 0.1691, 0.1187).expand(1, heads, dim, dim);
        TensorAssert.Close(expectedOutput, outputs[0], atol: 1e-2, what: "Keras's output");       // Keras's own tolerance (float16 there)
        TensorAssert.Close(expectedScores, outputs[1], atol: 1e-2, what: "Keras's scores");

        // The same case exactly: a diagonal weight e^{1/√8} / (e^{1/√8} + 7); out[t] = (28 + 64 Σₛ s·a[t, s]) / 100.
        double diagonal = Math.Exp(1 / Math.Sqrt(8)) / (Math.Exp(1 / Math.Sqrt(8)) + 7), other = 1 / (Math.Exp(1 / Math.Sqrt(8)) + 7);
        var exact = Enumerable.Range(0, dim).Select(t => (28 + 64 * (28 * other + t * (diagonal - other))) / 100).ToArray();
        TensorAssert.Close(tensor(exact).reshape(1, dim, 1).expand(1, dim, dim), outputs[0], atol: 1e-12, what: "exact output");
    }

    /// <summary>Keras's MultiHeadAttention written out with loops in float64; a query step with every key masked gets zero weights.</summary>
    private static (double[,,] Output, double[,,,] Weights) Reference(MultiHeadAttention layer, Tensor query, Tensor value, Tensor key, bool[,,]? allowed)
    {
        var w = layer.GetWeights().Select(t => t.to_type(ScalarType.Float64)).ToList();
        bool bias = layer.UseBias;
        var (wq, bq) = (w[0], bias ? w[1] : null);
        var (wk, bk) = (w[bias ? 2 : 1], bias ? w[3] : null);
        var (wv, bv) = (w[bias ? 4 : 2], bias ? w[5] : null);
        var (wo, bo) = (w[bias ? 6 : 3], bias ? w[7] : null);
        int n = layer.NumHeads, h = layer.KeyDim, hv = layer.ValueDim;
        long batch = query.shape[0], tq = query.shape[1], s = value.shape[1];
        long outSize = wo.shape[2..].Aggregate(1L, (a, b) => a * b);
        var woFlat = wo.reshape(n, hv, outSize);
        var boFlat = bo?.reshape(outSize);

        double[,,,] Project(Tensor x, Tensor kernel, Tensor? b, int size)
        {
            long steps = x.shape[1], features = x.shape[2];
            var result = new double[batch, steps, n, size];
            for (long i = 0; i < batch; i++)
                for (long t = 0; t < steps; t++)
                    for (int head = 0; head < n; head++)
                        for (int c = 0; c < size; c++)
                        {
                            double acc = b is null ? 0 : b[head, c].item<double>();
                            for (long f = 0; f < features; f++)
                                acc += x[i, t, f].item<double>() * kernel[f, head, c].item<double>();
                            result[i, t, head, c] = acc;
                        }
            return result;
        }

        var q = Project(query, wq, bq, h);
        var k = Project(key, wk, bk, h);
        var v = Project(value, wv, bv, hv);
        var weights = new double[batch, n, tq, s];
        var output = new double[batch, tq, outSize];
        for (long i = 0; i < batch; i++)
        {
            for (long t = 0; t < tq; t++)
            {
                var context = new double[n, hv];
                for (int head = 0; head < n; head++)
                {
                    var score = new double[s];
                    for (long j = 0; j < s; j++)
                    {
                        double dot = 0;
                        for (int c = 0; c < h; c++)
                            dot += q[i, t, head, c] * k[i, j, head, c];
                        score[j] = dot / Math.Sqrt(h);
                    }
                    var keep = Enumerable.Range(0, (int)s).Where(j => allowed is null || allowed[i, t, j]).ToList();
                    if (keep.Count > 0)
                    {
                        double max = keep.Max(j => score[j]);
                        double sum = keep.Sum(j => Math.Exp(score[j] - max));
                        foreach (var j in keep)
                            weights[i, head, t, j] = Math.Exp(score[j] - max) / sum;
                    }
                    for (int c = 0; c < hv; c++)
                        for (long j = 0; j < s; j++)
                            context[head, c] += weights[i, head, t, j] * v[i, j, head, c];
                }
                for (long o = 0; o < outSize; o++)
                {
                    double acc = boFlat is null ? 0 : boFlat[o].item<double>();
                    for (int head = 0; head < n; head++)
                        for (int c = 0; c < hv; c++)
                            acc += context[head, c] * woFlat[head, c, o].item<double>();
                    output[i, t, o] = acc;
                }
            }
        }
        return (output, weights);
    }

    private static MultiHeadAttention Randomized(MultiHeadAttention layer, long[][] shapes)
    {
        layer.Build(shapes);
        using (no_grad())
        {
            foreach (var w in layer.Weights)
                w.uniform_(-0.8, 0.8);
        }
        return layer;
    }

    private static readonly bool[,] QueryMask = { { true, true, true, false }, { true, false, true, true } };
    private static readonly bool[,] ValueMask = { { true, true, false, true, true }, { false, true, true, true, false } };
    private static readonly bool[,] KeyMask = { { true, true, true, true, false }, { true, true, true, true, true } };

    public static TheoryData<string> Cases => new() { "self", "cross", "masked", "causal", "masked_causal_attention_mask", "no_bias_value_dim_output_shape" };

    [Theory]
    [MemberData(nameof(Cases))]
    public void CallWithMasks_MatchesTheFormulaWrittenWithLoops(string name)
    {
        manual_seed(21);
        bool self = name == "self" || name == "causal";
        var query = randn(2, 4, 5, dtype: ScalarType.Float64);
        var value = self ? query : randn(2, 5, 3, dtype: ScalarType.Float64);
        var key = self ? query : randn(2, 5, 6, dtype: ScalarType.Float64);
        long s = value.shape[1];
        var layer = name == "no_bias_value_dim_output_shape"
            ? new MultiHeadAttention(2, 3, valueDim: 4, useBias: false, outputShape: [2, 3], dtype: ScalarType.Float64)
            : new MultiHeadAttention(3, 2, dtype: ScalarType.Float64);
        Randomized(layer, self ? [[4, 5], [4, 5]] : [[4, 5], [5, 3], [5, 6]]);

        bool masked = name.StartsWith("masked", StringComparison.Ordinal);
        bool causal = name.Contains("causal", StringComparison.Ordinal);
        var args = new Dictionary<string, object?> { ["return_attention_scores"] = true, ["use_causal_mask"] = causal };
        var allowed = masked || causal ? new bool[2, 4, s] : null;
        bool[,,]? attentionMask = null;
        if (name.Contains("attention_mask", StringComparison.Ordinal))
        {
            attentionMask = new bool[2, 4, s];
            for (int i = 0; i < 2; i++)
                for (int t = 0; t < 4; t++)
                    for (int j = 0; j < s; j++)
                        attentionMask[i, t, j] = (i + t + j) % 3 != 1;
            args["attention_mask"] = tensor(attentionMask).to_type(ScalarType.Float32);   // nonzero = may attend, as Keras casts it
        }
        if (allowed is not null)
        {
            for (int i = 0; i < 2; i++)
                for (int t = 0; t < 4; t++)
                    for (int j = 0; j < s; j++)
                        allowed[i, t, j] = (!masked || (QueryMask[i, t] && ValueMask[i, j] && KeyMask[i, j])) && (!causal || j <= t) && (attentionMask is null || attentionMask[i, t, j]);
        }
        var inputs = self ? new[] { query, value } : new[] { query, value, key };
        Tensor?[]? masks = masked ? [tensor(QueryMask), tensor(ValueMask), tensor(KeyMask)] : null;
        var (outputs, mask) = layer.CallWithMasks(inputs, masks, args);

        var (expectedOutput, expectedWeights) = Reference(layer, query, value, key, allowed);
        var outputShape = layer.OutputProjectionShape is null ? new long[] { 2, 4, 5 } : [2, 4, .. layer.OutputProjectionShape];
        TensorAssert.Close(tensor(expectedOutput).reshape(outputShape), outputs[0], atol: 1e-10, what: "output");
        TensorAssert.Close(tensor(expectedWeights), outputs[1], atol: 1e-10, what: "attention scores");
        Assert.Equal(masked, mask is not null);
        Assert.Equal(new[] { outputShape[1..], new long[] { layer.NumHeads, 4, s } }, layer.ComputeOutputShapes(inputs.Select(x => x.shape[1..]).ToList(), args));
    }

    [Fact]
    public void CallWithMasks_KerasMaskingTest_InputMasksAndCausalEqualTheExplicitAttentionMask()
    {
        // Keras's test_masking: the Keras masks of query and value (and the causal mask) give the same
        // output as the attention_mask written out by hand.
        manual_seed(22);
        var layer = Randomized(new MultiHeadAttention(2, 2), [[5, 8], [3, 8]]);
        var query = randn(3, 5, 8);
        var value = randn(3, 3, 8);
        var queryMask = tensor(new long[,] { { 1, 2, 3, 0, 0 }, { 3, 3, 1, 1, 2 }, { 1, 0, 0, 0, 0 } }).ne(0);
        var valueMask = tensor(new long[,] { { 5, 4, 0 }, { 3, 0, 0 }, { 2, 1, 1 } }).ne(0);
        foreach (bool causal in new[] { false, true })
        {
            var manual = tensor(new long[,,]
            {
                { { 1, 1, 0 }, { 1, 1, 0 }, { 1, 1, 0 }, { 0, 0, 0 }, { 0, 0, 0 } },
                { { 1, 0, 0 }, { 1, 0, 0 }, { 1, 0, 0 }, { 1, 0, 0 }, { 1, 0, 0 } },
                { { 1, 1, 1 }, { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 } },
            });
            if (causal)
                manual = manual & tensor(new long[,] { { 1, 0, 0 }, { 1, 1, 0 }, { 1, 1, 1 }, { 1, 1, 1 }, { 1, 1, 1 } });
            var (automatic, mask) = layer.CallWithMasks([query, value], [queryMask, valueMask], new Dictionary<string, object?> { ["use_causal_mask"] = causal });
            var (explicitly, none) = layer.CallWithMasks([query, value], null, new Dictionary<string, object?> { ["attention_mask"] = manual });
            TensorAssert.Close(explicitly[0], automatic[0], atol: 1e-6, what: $"causal {causal}");
            Assert.Same(queryMask, mask);
            Assert.Null(none);
        }
    }

    [Fact]
    public void Call_Dropout_ActsOnTheAttentionWeightsOnlyInTraining()
    {
        manual_seed(23);
        var x = randn(2, 6, 4);
        var layer = Randomized(new MultiHeadAttention(2, 3, dropout: 0.5, seed: 3), [[6, 4], [6, 4]]);
        var (inference, _) = layer.CallWithMasks([x, x], null, Scores);
        var plain = new MultiHeadAttention(2, 3);
        plain.Build([[6, 4], [6, 4]]);
        plain.SetWeights(layer.GetWeights());
        TensorAssert.Close(plain.Call([x, x]), inference[0], atol: 0, what: "inference output");

        layer.train();
        var (trained, _) = layer.CallWithMasks([x, x], null, Scores);
        TensorAssert.Close(inference[1], trained[1], atol: 1e-7, what: "returned scores (before dropout, as Keras)");
        Assert.True((trained[0] - inference[0]).abs().max().item<float>() > 1e-3, "dropout changed nothing in training mode");
        layer.eval();
        TensorAssert.Close(inference[0], layer.Call([x, x]), atol: 0, what: "inference again");
    }

    [Fact]
    public void Call_Gradients_MatchFiniteDifferencesInDouble()
    {
        manual_seed(24);
        var layer = Randomized(new MultiHeadAttention(2, 2, valueDim: 3, dtype: ScalarType.Float64), [[3, 3], [4, 2], [4, 3]]);
        var inputs = new[] { randn(2, 3, 3, dtype: ScalarType.Float64), randn(2, 4, 2, dtype: ScalarType.Float64), randn(2, 4, 3, dtype: ScalarType.Float64) };
        var masks = new Tensor?[] { tensor(new[,] { { true, false, true }, { true, true, true } }), tensor(new[,] { { true, true, false, true }, { true, false, true, true } }), null };
        var args = new Dictionary<string, object?> { ["use_causal_mask"] = true };
        var probe = randn(2, 3, 3, dtype: ScalarType.Float64);
        double Loss() => (layer.CallWithMasks(inputs, masks, args).Outputs[0] * probe).sum().item<double>();

        foreach (var x in inputs)
            x.requires_grad_(true);
        (layer.CallWithMasks(inputs, masks, args).Outputs[0] * probe).sum().backward();
        var targets = inputs.Concat(layer.Weights.Cast<Tensor>()).ToList();
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
    public void Build_Weights_FollowKerasNamesShapesOrderAndFans()
    {
        var layer = new MultiHeadAttention(numHeads: 4, keyDim: 8, valueDim: 6);
        layer.Build([[10, 32], [12, 16], [12, 24]]);
        Assert.Equal(
            new[] { "query_kernel", "query_bias", "key_kernel", "key_bias", "value_kernel", "value_bias", "attention_output_kernel", "attention_output_bias" },
            layer.named_parameters().Select(p => p.name));
        long[][] shapes = [[32, 4, 8], [4, 8], [24, 4, 8], [4, 8], [16, 4, 6], [4, 6], [4, 6, 32], [32]];
        Assert.Equal(shapes, layer.Weights.Select(w => w.shape));
        Assert.Equal(shapes.Sum(s => s.Aggregate(1L, (a, b) => a * b)), layer.CountParams());
        // Glorot uniform with each projection's fans, e.g. fan_in 32 and fan_out 4·8 for the query.
        double[] limits = [Math.Sqrt(6.0 / (32 + 32)), Math.Sqrt(6.0 / (24 + 32)), Math.Sqrt(6.0 / (16 + 24)), Math.Sqrt(6.0 / (24 + 32))];
        for (int k = 0; k < 4; k++)
        {
            var kernel = layer.Weights[2 * k];
            double max = kernel.abs().max().item<float>();
            Assert.InRange(max, 0.8 * limits[k], limits[k]);
            Assert.Equal(0f, layer.Weights[2 * k + 1].abs().max().item<float>());
        }
        var noBias = new MultiHeadAttention(2, 2, useBias: false);
        noBias.Build([[3, 5], [3, 5]]);
        Assert.Equal(4, noBias.Weights.Count);
    }

    [Fact]
    public void Call_BadInput_NamesTheLayerAndTheShapes()
    {
        var layer = new MultiHeadAttention(2, 4, name: "mha");
        var count = Assert.Throws<ArgumentException>(() => layer.Call([zeros(2, 3, 4)]));
        Assert.Contains("'mha'", count.Message);
        Assert.Contains("2 to 3 inputs. Received: 1", count.Message);
        var rank = Assert.Throws<ArgumentException>(() => layer.Call([zeros(2, 4), zeros(2, 4)]));
        Assert.Contains("rank 3", rank.Message);
        var steps = Assert.Throws<ArgumentException>(() => layer.Call([zeros(2, 3, 4), zeros(2, 5, 4), zeros(2, 6, 4)]));
        Assert.Contains("same number of steps", steps.Message);
        Assert.Contains("(None, 5, 4), (None, 6, 4)", steps.Message);
        Assert.False(layer.Built);

        layer.Call([zeros(2, 3, 4), zeros(2, 5, 4)]);
        var features = Assert.Throws<ArgumentException>(() => layer.Call([zeros(2, 3, 4), zeros(2, 5, 7)]));
        Assert.Contains("built for feature sizes query 4, value 4, key 4", features.Message);
        var attention = Assert.Throws<ArgumentException>(() => layer.CallWithMasks([zeros(2, 3, 4), zeros(2, 5, 4)], null,
            new Dictionary<string, object?> { ["attention_mask"] = ones(2, 5, 3) }));
        Assert.Contains("attention_mask of shape (batch, T, S) = [2, 3, 5]", attention.Message);
        var arg = Assert.Throws<ArgumentException>(() => layer.CallWithMasks([zeros(2, 3, 4), zeros(2, 5, 4)], null, new Dictionary<string, object?> { ["causal"] = true }));
        Assert.Contains("'causal'", arg.Message);

        Assert.Throws<ArgumentOutOfRangeException>(() => new MultiHeadAttention(0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MultiHeadAttention(2, 4, dropout: 1));
        Assert.Throws<NotSupportedException>(() => new MultiHeadAttention(2, 4, attentionAxes: [1, 2]));
    }

    [Fact]
    public void FromConfig_GetConfig_UsesKerasKeysAndRefusesWhatIsNotImplemented()
    {
        var config = new MultiHeadAttention(4, 8, dropout: 0.1, outputShape: [6], seed: 5, kernelInitializer: "he_normal").GetConfig();
        Assert.Equal(4, config["num_heads"]);
        Assert.Equal(8, config["key_dim"]);
        Assert.Equal(8, config["value_dim"]);
        Assert.Equal(true, config["use_bias"]);
        Assert.Equal(new long[] { 6 }, config["output_shape"]);
        Assert.Null(config["attention_axes"]);
        var again = (MultiHeadAttention)Layer.FromConfig("MultiHeadAttention", config);
        Assert.Equal(5L, again.Seed);
        Assert.Equal(new long[] { 6 }, again.OutputProjectionShape);

        // Keras 3's keys for its newer options: accepted at their defaults, refused otherwise.
        config["use_gate"] = false;
        config["sliding_window"] = null;
        config["attention_axes"] = new List<object?> { 1L };
        Assert.IsType<MultiHeadAttention>(Layer.FromConfig("MultiHeadAttention", config));
        config["use_gate"] = true;
        Assert.Contains("use_gate", Assert.Throws<NotSupportedException>(() => Layer.FromConfig("MultiHeadAttention", config)).Message);
        config["use_gate"] = false;
        config["kernel_regularizer"] = "l2";
        Assert.Contains("kernel_regularizer", Assert.Throws<NotSupportedException>(() => Layer.FromConfig("MultiHeadAttention", config)).Message);
    }
}
