using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using TorchSharp;

namespace SeqSharp.Tests.Layers.Attention;

/// <summary>
/// The merge and attention layers inside functional graphs: the model computes what the layers
/// called one by one compute, trains their weights, passes masks as Keras does, and survives a
/// <c>.keras</c> save and load.
/// </summary>
public sealed class AttentionGraphTests
{
    private static readonly Dictionary<string, object?> Causal = new() { ["use_causal_mask"] = true };

    [Fact]
    public void Transformerish_Graph_PredictsAsTheLayersCalledDirectlyTrainsAndReloads()
    {
        torch.manual_seed(31);
        var inputs = new Input(shape: [null, 3], name: "series");
        var lstm = new LSTM(8, returnSequences: true, name: "lstm");
        var mha = new MultiHeadAttention(2, 4, name: "mha");
        var add = new Add(name: "residual");
        var norm = new LayerNormalization(name: "norm");
        var luong = new SeqSharp.Layers.Attention(useScale: true, name: "luong");
        var concat = new Concatenate(name: "concat");
        var head = new Dense(1, name: "head");
        var h = lstm.Apply(inputs);
        var attended = mha.Apply([h, h], Causal);
        var normed = norm.Apply(add.Apply([h, attended]));
        var context = luong.Apply([normed, h], Causal);
        var output = head.Apply(concat.Apply([normed, context]));
        var model = new Model(inputs, output, name: "attentive");

        var x = randn(4, 6, 3);
        Tensor Direct(Tensor xs)
        {
            using var _ = no_grad();
            var hs = lstm.Call(xs);
            var a = mha.CallWithMasks([hs, hs], null, Causal).Outputs[0];
            var n = norm.Call(add.Call([hs, a]));
            return head.Call(concat.Call([n, luong.CallWithMasks([n, hs], null, Causal).Outputs[0]]));
        }
        TensorAssert.Close(Direct(x), model.Predict(x, verbose: 0), atol: 1e-6, what: "graph against direct calls");
        Assert.Equal(new long[] { 4, 6, 1 }, model.Predict(x, verbose: 0).shape);

        // Both attention layers are causal (and the LSTM reads forwards): changing the last step leaves every earlier output unchanged.
        var later = x.clone();
        later[.., 5] = randn(4, 3);
        TensorAssert.Close(model.Predict(x, verbose: 0)[.., ..5], model.Predict(later, verbose: 0)[.., ..5], atol: 1e-6, what: "earlier steps, causal");

        model.Compile(optimizer: "adam", loss: "mse");
        var before = mha.GetWeights().Concat(luong.GetWeights()).ToList();
        model.Fit(x, randn(4, 6, 1), epochs: 1, batchSize: 4, verbose: 0);
        var after = mha.GetWeights().Concat(luong.GetWeights()).ToList();
        for (int k = 0; k < before.Count; k++)
            Assert.False(before[k].equal(after[k]).all().item<bool>(), $"attention weight {k} did not change in a training step");

        var dir = Directory.CreateTempSubdirectory("seqsharp-attention-graph-");
        try
        {
            var path = Path.Combine(dir.FullName, "attentive.keras");
            model.Save(path);
            // Keras 3's layout: the projections in EinsumDense sublayers, kernel then bias.
            using (var reader = SeqSharp.Saving.WeightsReader.Open(path))
            {
                Assert.Empty(reader.Vars("layers/multi_head_attention/vars") ?? []);
                foreach (var (attribute, kernel, bias) in new[] { ("query_dense", new long[] { 8, 2, 4 }, new long[] { 2, 4 }), ("key_dense", [8, 2, 4], [2, 4]),
                    ("value_dense", [8, 2, 4], [2, 4]), ("output_dense", [2, 4, 8], [8]) })
                {
                    var stored = reader.Vars($"layers/multi_head_attention/{attribute}/vars")!;
                    Assert.Equal([kernel, bias], stored.Select(v => v.Shape.ToArray()));
                }
                Assert.Empty(Assert.Single(reader.Vars("layers/attention/vars")!).Shape);   // the Luong scale, a scalar
            }
            var loaded = Model.Load(path);
            TensorAssert.Close(model.Predict(x, verbose: 0), loaded.Predict(x, verbose: 0), atol: 0, what: "reloaded model");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void MaskedSequence_Graph_PassesTheQueryMaskThroughAttentionAsKeras()
    {
        torch.manual_seed(32);
        var tokens = new Input(shape: [null], name: "tokens");
        var embedding = new Embedding(10, 4, maskZero: true, name: "embed");
        var mha = new MultiHeadAttention(2, 2, name: "mha");
        var pool = new GlobalAveragePooling1D(name: "pool");
        var e = embedding.Apply(tokens);
        var model = new Model(tokens, pool.Apply(mha.Apply([e, e])));

        var ids = tensor(new long[,] { { 3, 5, 2, 0, 0 }, { 7, 1, 0, 0, 0 } });
        var (embedded, mask) = embedding.CallWithMask(ids, null);
        var (attended, outMask) = mha.CallWithMasks([embedded, embedded], [mask, mask], null);
        Assert.NotNull(outMask);
        var expected = pool.CallWithMask(attended[0], outMask).Output;   // the mean over the unmasked steps only
        TensorAssert.Close(expected, model.Predict(ids.to_type(ScalarType.Float32), verbose: 0), atol: 1e-6, what: "masked graph");
        var unmasked = pool.Call(mha.Call([embedded, embedded]));
        Assert.True((unmasked - expected).abs().max().item<float>() > 1e-4, "the mask made no difference");
    }
}
