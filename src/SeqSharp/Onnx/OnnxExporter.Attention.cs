using Onnx;
using SeqSharp.Layers;
using TorchSharp;
using B = SeqSharp.Onnx.OnnxGraphBuilder;

namespace SeqSharp.Onnx;

internal static partial class OnnxExporter
{
    /// <summary>
    /// Attention (Luong, <c>dot</c> or <c>concat</c> scores, with or without the learned scale) and
    /// AdditiveAttention, as the layers compute them at inference: scores, the value's mask and the
    /// causal mask as <c>scores - 1e9</c> where a step may not be attended to, <c>Softmax</c> over the
    /// value steps, <c>MatMul</c> with the value, the query's mask zeroing its masked steps (and
    /// passed on). With <c>return_attention_scores</c> the weights are a second output.
    /// </summary>
    private static List<Flow> Attention(B g, Attention layer, IReadOnlyDictionary<string, object?> callArgs, IReadOnlyList<Flow> inputs)
    {
        bool causal = CallArguments.Bool(layer, callArgs, "use_causal_mask");
        bool returnScores = CallArguments.Bool(layer, callArgs, "return_attention_scores");
        var (query, value) = (inputs[0], inputs[1]);
        var key = inputs.Count > 2 ? inputs[2].X : value.X;
        RequireStepMask(layer, query);
        RequireStepMask(layer, value);
        using var scope = torch.NewDisposeScope();

        string scores;
        if (layer is AdditiveAttention)
        {
            var tanh = g.Node("Tanh", [Pairs(g, query.X, key)]);
            scores = g.Reduce("ReduceSum", layer.Scale is null ? tanh : g.Node("Mul", [g.Weight("scale", layer.Scale), tanh]), [-1], false);
        }
        else if (layer.ScoreMode == "dot")
        {
            scores = g.Node("MatMul", [query.X, g.Node("Transpose", [key], B.Ints("perm", 0, 2, 1))]);
            if (layer.Scale is not null)
                scores = g.Node("Mul", [scores, g.Weight("scale", layer.Scale)]);
        }
        else
        {
            var sum = Pairs(g, query.X, key);
            if (layer.Scale is not null)
                sum = g.Node("Mul", [g.Weight("scale", layer.Scale), sum]);
            scores = g.Node("Mul", [g.Weight("concat_score_weight", layer.ConcatScoreWeight!), g.Reduce("ReduceSum", g.Node("Tanh", [sum]), [-1], false)]);
        }

        string? allowed = value.Mask is null ? null : g.Node("Unsqueeze", [value.Mask, g.Int64s("axes", 1)]);     // (batch, 1, Tv)
        if (causal)
        {
            var lower = Causal(g, query.X, key);
            allowed = allowed is null ? lower : g.Node("And", [allowed, lower]);
        }
        if (allowed is not null)
            scores = g.Node("Where", [allowed, scores, g.Node("Sub", [scores, g.Scalar("big", 1e9)])]);
        var weights = g.Node("Softmax", [scores], B.Int("axis", -1));
        var output = g.Node("MatMul", [weights, value.X]);
        if (query.Mask is not null)
            output = g.Node("Where", [g.Node("Unsqueeze", [query.Mask, g.Int64s("axes", 2)]), output, g.Scalar("zero", 0)]);
        var result = new List<Flow> { new(output, query.Mask) };
        if (returnScores)
            result.Add(new Flow(weights, null));
        return result;
    }

    /// <summary><c>q[:, i] + k[:, j]</c> for every pair: <c>(batch, Tq, Tv, dim)</c>.</summary>
    private static string Pairs(B g, string query, string key) =>
        g.Node("Add", [g.Node("Unsqueeze", [query, g.Int64s("axes", -2)]), g.Node("Unsqueeze", [key, g.Int64s("axes", -3)])]);

    /// <summary>The causal mask <c>(1, Tq, Tk)</c>: query step i may attend to key step j ≤ i (the lower triangle, as <c>tril</c>).</summary>
    private static string Causal(B g, string query, string key)
    {
        string Steps(string x) => g.Node("Squeeze", [g.Node("Gather", [g.Node("Shape", [x]), g.Int64s("time_axis", 1)], B.Int("axis", 0)), g.Int64s("axes", 0)]);
        string Positions(string x) => g.Node("Range", [g.Int64Scalar("zero", 0), Steps(x), g.Int64Scalar("one", 1)]);
        var i = g.Node("Unsqueeze", [Positions(query), g.Int64s("axes", 1)]);      // (Tq, 1)
        var j = g.Node("Unsqueeze", [Positions(key), g.Int64s("axes", 0)]);        // (1, Tk)
        return g.Node("Unsqueeze", [g.Node("LessOrEqual", [j, i]), g.Int64s("axes", 0)]);
    }

    /// <summary>
    /// MultiHeadAttention as the layer computes it at inference: the query, key and value
    /// projections (<c>MatMul</c> with the kernel as <c>(features, heads·size)</c>, the bias, a
    /// <c>Reshape</c> to heads), the query scaled by 1/√keyDim, scores per head, the AND of the query,
    /// value and key masks and the causal mask (masked scores set to -1e9 before the <c>Softmax</c> and
    /// the weights there to 0 after it), the weighted values, the output projection. With
    /// <c>return_attention_scores</c> the weights <c>(batch, heads, T, S)</c> are a second output.
    /// </summary>
    private static List<Flow> MultiHeadAttention(B g, MultiHeadAttention layer, IReadOnlyDictionary<string, object?> callArgs, IReadOnlyList<Flow> inputs)
    {
        bool causal = CallArguments.Bool(layer, callArgs, "use_causal_mask");
        bool returnScores = CallArguments.Bool(layer, callArgs, "return_attention_scores");
        var (query, value) = (inputs[0], inputs[1]);
        var key = inputs.Count > 2 ? inputs[2] : new Flow(value.X, null);
        foreach (var flow in inputs)
            RequireStepMask(layer, flow);
        var projections = layer.SavedSublayers().ToDictionary(s => s.Name, s => s.Variables);
        using var scope = torch.NewDisposeScope();

        string Project(string x, string name)
        {
            var variables = projections[name];
            var kernel = variables[0];
            var y = g.Node("MatMul", [x, g.Weight(name + "_kernel", kernel.reshape(kernel.shape[0], -1))]);
            if (variables.Count > 1)
                y = g.Node("Add", [y, g.Weight(name + "_bias", variables[1].reshape(-1))]);
            return g.Node("Reshape", [y, g.Int64s("shape", 0, 0, kernel.shape[1], kernel.shape[2])]);     // (batch, steps, heads, size)
        }

        var q = g.Node("Transpose", [g.Node("Mul", [Project(query.X, "query"), g.Scalar("scale", 1 / Math.Sqrt(layer.KeyDim))])], B.Ints("perm", 0, 2, 1, 3));
        var k = g.Node("Transpose", [Project(key.X, "key")], B.Ints("perm", 0, 2, 3, 1));
        var v = g.Node("Transpose", [Project(value.X, "value")], B.Ints("perm", 0, 2, 1, 3));
        var scores = g.Node("MatMul", [q, k]);                                                      // (batch, heads, T, S)

        string? mask = null;
        void And(string m) => mask = mask is null ? m : g.Node("And", [mask, m]);
        if (query.Mask is not null)
            And(g.Node("Unsqueeze", [query.Mask, g.Int64s("axes", 2)]));                             // (batch, T, 1)
        if (value.Mask is not null)
            And(g.Node("Unsqueeze", [value.Mask, g.Int64s("axes", 1)]));                             // (batch, 1, S)
        if (key.Mask is not null)
            And(g.Node("Unsqueeze", [key.Mask, g.Int64s("axes", 1)]));
        if (causal)
            And(Causal(g, query.X, value.X));                                                        // (1, T, S)
        string weights;
        if (mask is null)
        {
            weights = g.Node("Softmax", [scores], B.Int("axis", -1));
        }
        else
        {
            var expanded = g.Node("Unsqueeze", [mask, g.Int64s("axes", 1)]);                         // (batch or 1, 1, T, S)
            weights = g.Node("Softmax", [g.Node("Where", [expanded, scores, g.Scalar("big", -1e9)])], B.Int("axis", -1));
            weights = g.Node("Where", [expanded, weights, g.Scalar("zero", 0)]);
        }

        var context = g.Node("Transpose", [g.Node("MatMul", [weights, v])], B.Ints("perm", 0, 2, 1, 3));   // (batch, T, heads, Hv)
        var outputVariables = projections["attention_output"];
        var outputKernel = outputVariables[0];
        var outputSizes = outputKernel.shape[2..];
        var output = g.Node("MatMul", [g.Node("Reshape", [context, g.Int64s("shape", 0, 0, -1)]),
            g.Weight("attention_output_kernel", outputKernel.reshape(layer.NumHeads * layer.ValueDim, -1))]);
        if (outputVariables.Count > 1)
            output = g.Node("Add", [output, g.Weight("attention_output_bias", outputVariables[1].reshape(-1))]);
        if (outputSizes.Length > 1)
            output = g.Node("Reshape", [output, g.Int64s("shape", [0, 0, .. outputSizes])]);
        var result = new List<Flow> { new(output, query.Mask) };
        if (returnScores)
            result.Add(new Flow(weights, null));
        return result;
    }
}
