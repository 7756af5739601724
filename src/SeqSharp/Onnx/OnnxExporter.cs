using Onnx;
using SeqSharp.Activations;
using Activation = SeqSharp.Activations.Activation;
using SeqSharp.Layers;
using TorchSharp;
using static TorchSharp.torch;
using B = SeqSharp.Onnx.OnnxGraphBuilder;

namespace SeqSharp.Onnx;

/// <summary>
/// Turns a built <see cref="Sequential"/> model into an ONNX graph for inference: input <c>input</c>
/// and output <c>output</c> with a dynamic batch dimension <c>batch</c>, one or a few standard
/// operators per layer, the weights as initializers.
/// </summary>
/// <remarks>
/// <para>Recurrent layers become ONNX's <c>RNN</c>, <c>LSTM</c> and <c>GRU</c> operators, which are
/// time-major: <c>Transpose</c> nodes turn <c>(batch, timesteps, features)</c> into
/// <c>(timesteps, batch, features)</c> and back. Keras's gate order i, f, c, o becomes ONNX's i, o, f, c;
/// the bias becomes <c>B = [input bias, recurrent bias]</c> (zeros for the recurrent half, except
/// GRU with <c>resetAfter</c>, whose second bias row is ONNX's <c>Rb</c> with
/// <c>linear_before_reset = 1</c>); peepholes become <c>P</c> in the order i, o, f.</para>
/// <para><c>goBackwards</c> becomes <c>direction = "reverse"</c>. ONNX returns a reverse run's outputs
/// in the input's time order, Keras in processing order, so a sequence output is flipped along time
/// with a <c>Slice</c> of step -1; the last output (<c>Y_h</c>) is the same in both.</para>
/// </remarks>
internal static partial class OnnxExporter
{
    /// <summary>The oldest opset written: <c>Squeeze</c> and <c>Unsqueeze</c> take their axes as inputs from opset 13.</summary>
    public const int MinOpset = 14;

    /// <summary>The newest opset written (ONNX 1.16's operators used here do not change up to it).</summary>
    public const int MaxOpset = 21;

    /// <summary>
    /// A value flowing through the graph: the tensor and its Keras mask (bool), if any, of rank
    /// <paramref name="MaskRank"/> (batch axis included; usually 2, <c>(batch, timesteps)</c>).
    /// </summary>
    private readonly record struct Flow(string X, string? Mask, int MaskRank = 2);

    /// <summary>The graph of a built model.</summary>
    /// <exception cref="NotSupportedException">A layer, option or activation without an ONNX form; the message names it.</exception>
    public static ModelProto Export(Sequential model, int opset)
    {
        var dtype = model.Layers[0].DType;
        var graph = new GraphProto { Name = model.Name };
        var g = new B(graph, dtype, opset);
        bool indices = model.Layers.FirstOrDefault(l => l is not InputLayer) is Embedding;
        bool dynamicTime = DynamicTime(model);
        graph.Input.Add(ValueInfo("input", indices ? B.Int64Type : g.ElementType, model.InputShape!, dynamicTime ? "time" : null));
        var flow = new Flow("input", null);
        foreach (var layer in model.Layers)
            flow = Layer(g, layer, flow);
        g.Node("Identity", [flow.X]);
        graph.Node[^1].Output[0] = "output";
        graph.Output.Add(ValueInfo("output", g.ElementType, model.OutputShape!, TimeSurvives(model) && dynamicTime ? "" : null));
        return Wrap(graph, opset);
    }

    /// <summary>The model file around a graph: IR version for the opset, producer, opset import.</summary>
    private static ModelProto Wrap(GraphProto graph, int opset)
    {
        var proto = new ModelProto
        {
            IrVersion = opset switch { 14 => 7, <= 18 => 8, <= 20 => 9, _ => 10 },
            ProducerName = "SeqSharp",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
            Graph = graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return proto;
    }

    /// <summary>
    /// Whether the graph can take any number of time steps: the input is a sequence and every layer
    /// that sees the input's time axis works at any length (recurrent, convolution, pooling, per-step
    /// layers); layers after the time axis is gone (a recurrent layer's last output, global pooling)
    /// may be anything.
    /// </summary>
    internal static bool DynamicTime(Sequential model)
    {
        // An explicit InputLayer with a fixed length keeps it; one with a None time axis does not.
        var first = model.AllLayers[0];
        int rank = model.InputShape!.Length;
        if ((first is InputLayer && model.InputShape[0] != -1) || !(first is Embedding ? rank == 1 : rank == 2))
            return false;
        foreach (var layer in model.AllLayers)
        {
            switch (layer)
            {
                case Dropout or SpatialDropout1D or GaussianNoise or Layers.Dense or Layers.Activation or Embedding or Masking
                    or Layers.Conv1D or Pooling1D or Layers.TimeDistributed:
                    continue;
                // Normalized along the time axis, the weights have one entry per step: a fixed length.
                case LayerNormalization norm when Axis(norm.Axis, norm.BuiltInputShape!.Length + 1) != 1:
                    continue;
                case BatchNormalization norm when Axis(norm.Axis, norm.BuiltInputShape!.Length + 1) != 1:
                    continue;
                case Rnn { ReturnSequences: false } or Bidirectional { ReturnSequences: false } or GlobalPooling1D:
                    return true;
                case Rnn or Bidirectional:
                    continue;
                default:
                    return false;
            }
        }
        return true;
    }

    private static long Axis(int axis, int rank) => axis < 0 ? rank + axis : axis;

    /// <summary>Whether the output still has the input's time axis (second).</summary>
    private static bool TimeSurvives(Sequential model) => !model.Layers.Any(l => l is Rnn { ReturnSequences: false } or Bidirectional { ReturnSequences: false } or GlobalPooling1D);

    private static Flow Layer(B g, Layer layer, Flow flow)
    {
        var (x, mask, _) = flow;
        switch (layer)
        {
            case Embedding embedding:
            {
                var ids = g.Cast(x, B.Int64Type);
                var y = g.Node("Gather", [g.Weight("embeddings", embedding.Embeddings!), ids], B.Int("axis", 0));
                return new Flow(y, embedding.MaskZero ? g.Node("Not", [g.Node("Equal", [ids, g.Int64s("zero", 0)])]) : null, embedding.BuiltInputShape!.Length + 1);
            }
            case Masking masking:
            {
                var keep = g.Cast(g.Reduce("ReduceMax", g.Cast(g.Node("Not", [g.Node("Equal", [x, g.Scalar("mask_value", masking.MaskValue)])]), B.FloatType), [-1], false), B.BoolType);
                var y = g.Node("Mul", [x, g.Node("Unsqueeze", [g.Cast(keep, g.ElementType), g.Int64s("axes", -1)])]);
                return new Flow(y, keep, masking.BuiltInputShape!.Length);
            }
            case Rnn rnn:
                return RecurrentLayer(g, rnn, flow, null)[0];
            case Bidirectional bidirectional:
                return BidirectionalLayer(g, bidirectional, flow)[0];
            case GlobalAveragePooling1D average:
            {
                if (mask is null)
                    return new Flow(g.Reduce("ReduceMean", x, [1], average.Keepdims), null);
                var weights = g.Node("Unsqueeze", [g.Cast(mask, g.ElementType), g.Int64s("axes", 2)]);
                var sum = g.Reduce("ReduceSum", g.Node("Mul", [x, weights]), [1], average.Keepdims);
                return new Flow(g.Node("Div", [sum, g.Reduce("ReduceSum", weights, [1], average.Keepdims)]), null);
            }
            case GlobalMaxPooling1D max:
                return new Flow(g.Reduce("ReduceMax", x, [1], max.Keepdims), null);
            case TimeDistributed wrapper:
                return flow with { X = TimeDistributed(g, wrapper, x) };
            case Lambda:
                throw new NotSupportedException(
                    $"Layer '{layer.Name}' of type Lambda cannot be exported to ONNX: its C# function has no ONNX form. Write it as ONNX-exportable layers, or export the model without it.");
            default:
                // Layers that pass a mask on unchanged (Keras supports_masking) keep it; the others drop it, as in Keras.
                return flow with { X = Plain(g, layer, x), Mask = layer.PassesMask ? mask : null };
        }
    }

    /// <summary>A recurrent layer's outputs as a graph call has them: the output (with the mask when it returns sequences), then the final states.</summary>
    private static List<Flow> RecurrentLayer(B g, Rnn rnn, Flow flow, IReadOnlyList<string>? initial)
    {
        RequireStepMask(rnn, flow);
        var (y, states) = Recurrent(g, rnn, flow.X, flow.Mask, initial);
        return [flow with { X = y, Mask = rnn.ReturnSequences ? flow.Mask : null }, .. states.Select(s => new Flow(s, null))];
    }

    /// <summary>Bidirectional: both directions, the backward sequence flipped, merged; then the forward layer's final states and the backward layer's.</summary>
    private static List<Flow> BidirectionalLayer(B g, Bidirectional bidirectional, Flow flow)
    {
        if (bidirectional.Stateful)
            throw new NotSupportedException($"Layer '{bidirectional.Name}' of type Bidirectional is stateful; an ONNX graph has no state carried between calls, so it cannot be exported.");
        RequireStepMask(bidirectional, flow);
        var (forward, forwardStates) = Recurrent(g, bidirectional.ForwardLayer, flow.X, flow.Mask);
        var (backward, backwardStates) = Recurrent(g, bidirectional.BackwardLayer, flow.X, flow.Mask);
        if (bidirectional.ReturnSequences)
            backward = FlipTime(g, backward, 1);
        var y = bidirectional.MergeMode switch
        {
            "concat" => g.Node("Concat", [forward, backward], B.Int("axis", -1)),
            "sum" => g.Node("Add", [forward, backward]),
            "mul" => g.Node("Mul", [forward, backward]),
            _ => g.Node("Mul", [g.Node("Add", [forward, backward]), g.Scalar("half", 0.5)]),
        };
        return [flow with { X = y, Mask = bidirectional.ReturnSequences ? flow.Mask : null }, .. forwardStates.Concat(backwardStates).Select(s => new Flow(s, null))];
    }

    /// <summary>Recurrent and attention layers take a <c>(batch, timesteps)</c> mask only (as <c>Predict</c> does).</summary>
    private static void RequireStepMask(Layer layer, Flow flow)
    {
        if (flow.Mask is not null && flow.MaskRank != 2)
            throw new NotSupportedException(
                $"Layer '{layer.Name}' of type {layer.ClassName} receives a mask of rank {flow.MaskRank}; it takes a (batch, timesteps) mask only, so the graph cannot be exported.");
    }

    /// <summary>Layers that take no mask.</summary>
    private static string Plain(B g, Layer layer, string x) => layer switch
    {
        InputLayer or Dropout or SpatialDropout1D or GaussianNoise => x,
        Dense dense => Dense(g, dense, x),
        Layers.Activation activationLayer => Activate(g, activationLayer.Function, x, layer),
        Flatten => g.Node("Flatten", [x], B.Int("axis", 1)),
        Reshape reshape => g.Node("Reshape", [x, g.Int64s("shape", [0, .. reshape.TargetShape])]),
        RepeatVector repeat => g.Node("Tile", [g.Node("Unsqueeze", [x, g.Int64s("axes", 1)]), g.Int64s("repeats", 1, repeat.N, 1)]),
        Permute permute => g.Node("Transpose", [x], B.Ints("perm", [0, .. permute.Dims.Select(d => (long)d)])),
        Conv1D conv => Conv1D(g, conv, x),
        Pooling1D pooling => Pooling(g, pooling, x),
        LayerNormalization norm => LayerNormalization(g, norm, x),
        BatchNormalization norm => BatchNormalization(g, norm, x),
        _ => throw new NotSupportedException(
            $"Layer '{layer.Name}' of type {layer.ClassName} cannot be exported to ONNX: SeqSharp's exporter knows its own layers only. Exportable: every SeqSharp layer but Lambda " +
            "(InputLayer, Dense, Activation, Dropout, SpatialDropout1D, GaussianNoise, Flatten, Reshape, RepeatVector, Permute, SimpleRNN, LSTM, GRU, Bidirectional, TimeDistributed, " +
            "Conv1D, MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D, Embedding, Masking, LayerNormalization, BatchNormalization)."),
    };

    /// <summary>Reverses the time axis (Slice with step -1).</summary>
    private static string FlipTime(B g, string x, long axis) =>
        g.Node("Slice", [x, g.Int64s("starts", -1), g.Int64s("ends", long.MinValue), g.Int64s("axes", axis), g.Int64s("steps", -1)]);

    /// <summary>Conv1D: channels-first <c>Conv</c> between two transposes; the padding as Keras computes it.</summary>
    private static string Conv1D(B g, Conv1D conv, string x)
    {
        var weights = conv.Weights;
        using var scope = torch.NewDisposeScope();
        var inputs = new List<string>
        {
            g.Node("Transpose", [x], B.Ints("perm", 0, 2, 1)),
            g.Weight("kernel", weights[0].permute(2, 1, 0)),
        };
        if (conv.UseBias)
            inputs.Add(g.Weight("bias", weights[1]));
        var attributes = new List<AttributeProto>
        {
            B.Ints("kernel_shape", conv.KernelSize),
            B.Ints("strides", conv.Strides),
            B.Ints("dilations", conv.DilationRate),
        };
        attributes.Add(Padding(conv.Padding, conv.KernelSize, conv.Strides, conv.DilationRate));
        var y = g.Node("Transpose", [g.Node("Conv", inputs, [.. attributes])], B.Ints("perm", 0, 2, 1));
        return Activate(g, conv.Activation, y, conv);
    }

    /// <summary>
    /// Keras's padding as ONNX attributes. With stride 1 the amounts do not depend on the length
    /// (<c>same</c>: extent - 1 split with the smaller half first; <c>causal</c>: extent - 1 before), so
    /// explicit pads; with a larger stride <c>same</c> depends on the length, and ONNX's
    /// <c>SAME_UPPER</c> computes it as Keras does (the extra step after; Keras allows no dilation then).
    /// </summary>
    private static AttributeProto Padding(string padding, long size, long stride, long dilation)
    {
        long extent = ConvPadding.Extent(size, dilation);
        return padding switch
        {
            "same" when stride > 1 => B.String("auto_pad", "SAME_UPPER"),
            "same" => B.Ints("pads", (extent - 1) / 2, extent - 1 - (extent - 1) / 2),
            "causal" => B.Ints("pads", extent - 1, 0),
            _ => B.Ints("pads", 0, 0),
        };
    }

    /// <summary>MaxPooling1D / AveragePooling1D: <c>MaxPool</c> / <c>AveragePool</c> channels-first (averages over the real steps only, as Keras).</summary>
    private static string Pooling(B g, Pooling1D pooling, string x)
    {
        var attributes = new List<AttributeProto>
        {
            B.Ints("kernel_shape", pooling.PoolSize),
            B.Ints("strides", pooling.Strides),
            Padding(pooling.Padding, pooling.PoolSize, pooling.Strides, 1),
        };
        string op = pooling is MaxPooling1D ? "MaxPool" : "AveragePool";
        if (op == "AveragePool")
            attributes.Add(B.Int("count_include_pad", 0));
        var y = g.Node(op, [g.Node("Transpose", [x], B.Ints("perm", 0, 2, 1))], [.. attributes]);
        return g.Node("Transpose", [y], B.Ints("perm", 0, 2, 1));
    }

    /// <summary>LayerNormalization over its axis: (x - mean) / sqrt(variance + epsilon) * gamma + beta.</summary>
    private static string LayerNormalization(B g, LayerNormalization norm, string x)
    {
        int rank = norm.BuiltInputShape!.Length + 1;
        long axis = Axis(norm.Axis, rank);
        var mean = g.Reduce("ReduceMean", x, [axis], true);
        var centered = g.Node("Sub", [x, mean]);
        var variance = g.Reduce("ReduceMean", g.Node("Mul", [centered, centered]), [axis], true);
        var y = g.Node("Div", [centered, g.Node("Sqrt", [g.Node("Add", [variance, g.Scalar("epsilon", norm.Epsilon)])])]);
        int k = 0;
        using var scope = torch.NewDisposeScope();
        if (norm.Scale)
            y = g.Node("Mul", [y, g.Weight("gamma", Along(norm.Weights[k++], rank, axis))]);
        if (norm.Center)
            y = g.Node("Add", [y, g.Weight("beta", Along(norm.Weights[k], rank, axis))]);
        return y;
    }

    /// <summary>BatchNormalization at inference: the moving statistics folded into one scale and one offset along the axis.</summary>
    private static string BatchNormalization(B g, BatchNormalization norm, string x)
    {
        int rank = norm.BuiltInputShape!.Length + 1;
        long axis = Axis(norm.Axis, rank);
        using var scope = torch.NewDisposeScope();
        var weights = norm.Weights.Select(w => w.detach().to_type(ScalarType.Float64)).ToList();
        int k = 0;
        var gamma = norm.Scale ? weights[k++] : null;
        var beta = norm.Center ? weights[k++] : null;
        var mean = weights[k++];
        var variance = weights[k];
        var inverse = (variance + norm.Epsilon).rsqrt();
        if (gamma is not null)
            inverse = inverse * gamma;
        var offset = -mean * inverse;
        if (beta is not null)
            offset = offset + beta;
        return g.Node("Add", [g.Node("Mul", [x, g.Weight("scale", Along(inverse, rank, axis))]), g.Weight("offset", Along(offset, rank, axis))]);
    }

    /// <summary>A vector shaped to broadcast along <paramref name="axis"/> of a rank-<paramref name="rank"/> tensor (batch axis included).</summary>
    private static Tensor Along(Tensor vector, int rank, long axis) => vector.reshape([vector.shape[0], .. Enumerable.Repeat(1L, rank - 1 - (int)axis)]);

    /// <summary>TimeDistributed: the inner layer on <c>(batch * steps, ...)</c>, reshaped back to <c>(batch, steps, ...)</c>.</summary>
    private static string TimeDistributed(B g, TimeDistributed wrapper, string x)
    {
        var inner = wrapper.Layer;
        var innerInput = inner.BuiltInputShape!;
        var merged = g.Node("Reshape", [x, g.Int64s("shape", [-1, .. innerInput])]);
        var y = Layer(g, inner, new Flow(merged, null)).X;
        var leading = g.Node("Slice", [g.Node("Shape", [x]), g.Int64s("starts", 0), g.Int64s("ends", 2)]);
        var shape = g.Node("Concat", [leading, g.Int64s("inner_shape", inner.OutputShape!)], B.Int("axis", 0));
        return g.Node("Reshape", [y, shape]);
    }

    private static string Dense(B g, Dense dense, string x)
    {
        var y = g.Node("MatMul", [x, g.Weight("kernel", dense.Kernel!)]);
        if (dense.Bias is not null)
            y = g.Node("Add", [y, g.Weight("bias", dense.Bias)]);
        return Activate(g, dense.Activation, y, dense);
    }

    /// <summary>An activation as ONNX operators (Keras's definitions: hard_sigmoid = x/6 + 1/2 clipped, gelu exact).</summary>
    private static string Activate(B g, Activation activation, string x, Layer layer) => activation.Name switch
    {
        "linear" => x,
        "relu" => g.Node("Relu", [x]),
        "tanh" => g.Node("Tanh", [x]),
        "sigmoid" => g.Node("Sigmoid", [x]),
        "hard_sigmoid" => g.Node("HardSigmoid", [x], B.Float("alpha", 1.0 / 6), B.Float("beta", 0.5)),
        "hard_sigmoid_keras2" => g.Node("HardSigmoid", [x], B.Float("alpha", 0.2), B.Float("beta", 0.5)),
        "elu" => g.Node("Elu", [x], B.Float("alpha", 1.0)),
        "selu" => g.Node("Selu", [x], B.Float("alpha", ActivationRegistry.SeluAlpha), B.Float("gamma", ActivationRegistry.SeluScale)),
        "softplus" => g.Node("Softplus", [x]),
        "softsign" => g.Node("Softsign", [x]),
        "exponential" => g.Node("Exp", [x]),
        "softmax" => g.Node("Softmax", [x], B.Int("axis", -1)),
        "swish" or "silu" => g.Node("Mul", [x, g.Node("Sigmoid", [x])]),
        "gelu" => g.Node("Mul", [g.Node("Mul", [x, g.Scalar("half", 0.5)]),
            g.Node("Add", [g.Scalar("one", 1.0), g.Node("Erf", [g.Node("Div", [x, g.Scalar("sqrt2", Math.Sqrt(2))])])])]),
        _ => throw new NotSupportedException($"Layer '{layer.Name}': activation '{activation.Name}' has no ONNX form in SeqSharp's exporter."),
    };

    /// <summary>
    /// A recurrent layer: its output (last step or sequence) and its final states, each
    /// <c>(batch, units)</c> (LSTM: h, c), from ONNX's <c>Y_h</c> / <c>Y_c</c>. Given
    /// <paramref name="initial"/> states <c>(batch, units)</c> start the run (<c>initial_h</c>, <c>initial_c</c>).
    /// </summary>
    private static (string Y, string[] States) Recurrent(B g, Rnn rnn, string x, string? mask, IReadOnlyList<string>? initial = null)
    {
        if (rnn.Stateful)
            throw new NotSupportedException($"Layer '{rnn.Name}' of type {rnn.ClassName} is stateful; an ONNX graph has no state carried between calls, so it cannot be exported.");
        long units = rnn.Units;
        var weights = rnn.Cell.Weights;
        string op;
        Tensor w, r;
        Tensor? bias = null, peepholes = null;
        Activation[] activations;
        var attributes = new List<AttributeProto>();
        using var scope = torch.NewDisposeScope();
        switch (rnn.Cell)
        {
            case LstmCell lstm:
            {
                // Keras's gate blocks i, f, c, o; ONNX's i, o, f, c.
                int[] order = [0, 3, 1, 2];
                Tensor Reorder(Tensor t, int axis) => torch.cat(order.Select(k => t.narrow(axis, k * units, units)).ToArray(), axis);
                op = "LSTM";
                w = Reorder(weights[0], 1).T;
                r = Reorder(weights[1], 1).T;
                if (lstm.UseBias)
                    bias = torch.cat([Reorder(weights[2], 0), torch.zeros(4 * units, weights[2].dtype)]);
                if (lstm.UsePeepholes)
                {
                    var p = weights[^1];
                    peepholes = torch.cat([p[0], p[2], p[1]]).unsqueeze(0);
                }
                activations = [lstm.RecurrentActivation, lstm.Activation, lstm.Activation];
                break;
            }
            case GruCell gru:
                op = "GRU";
                w = weights[0].T;
                r = weights[1].T;
                if (gru.UseBias)
                    bias = gru.ResetAfter ? weights[2].reshape(-1) : torch.cat([weights[2], torch.zeros(3 * units, weights[2].dtype)]);
                attributes.Add(B.Int("linear_before_reset", gru.ResetAfter ? 1 : 0));
                activations = [gru.RecurrentActivation, gru.Activation];
                break;
            case SimpleRnnCell simple:
                op = "RNN";
                w = weights[0].T;
                r = weights[1].T;
                if (simple.UseBias)
                    bias = torch.cat([weights[2], torch.zeros(units, weights[2].dtype)]);
                activations = [simple.Activation];
                break;
            default:
                throw new NotSupportedException($"Layer '{rnn.Name}' of type {rnn.ClassName} cannot be exported to ONNX.");
        }

        attributes.Add(B.Int("hidden_size", units));
        // With a mask the input is flipped before the operator (see Masked), so the run is forward.
        attributes.Add(B.String("direction", rnn.GoBackwards && mask is null ? "reverse" : "forward"));
        var onnx = activations.Select(a => RecurrentActivation(rnn, a)).ToList();
        attributes.Add(B.Strings("activations", onnx.Select(a => a.Name)));
        var alphas = onnx.SelectMany(a => a.Alpha).ToList();
        var betas = onnx.SelectMany(a => a.Beta).ToList();
        if (alphas.Count > 0)
            attributes.Add(B.Floats("activation_alpha", alphas));
        if (betas.Count > 0)
            attributes.Add(B.Floats("activation_beta", betas));

        if (mask is not null)
            return Masked(g, rnn, x, mask, op, w, r, bias, peepholes, attributes, initial);
        var inputs = OperatorInputs(g, rnn, g.Node("Transpose", [x], B.Ints("perm", 1, 0, 2)), w, r, bias, "", peepholes, initial);
        var outputs = g.Node(op, inputs, 1 + rnn.Cell.StateCount, [.. attributes]);
        var states = outputs.Skip(1).Select(s => g.Node("Squeeze", [s, g.Int64s("axes", 0)])).ToArray();

        if (!rnn.ReturnSequences)
            return (states[0], states);
        var sequence = g.Node("Squeeze", [outputs[0], g.Int64s("axes", 1)]);
        if (rnn.GoBackwards)
            sequence = FlipTime(g, sequence, 0);
        return (g.Node("Transpose", [sequence], B.Ints("perm", 1, 0, 2)), states);
    }

    /// <summary>
    /// The inputs of ONNX's <c>RNN</c> / <c>GRU</c> / <c>LSTM</c> in their order: X, W, R, B,
    /// sequence_lens, initial_h, initial_c (LSTM), P (LSTM); "" for an absent optional one, none after the last present one.
    /// </summary>
    private static List<string> OperatorInputs(B g, Rnn rnn, string timeMajor, Tensor w, Tensor r, Tensor? bias, string lengths, Tensor? peepholes,
        IReadOnlyList<string>? initial)
    {
        var inputs = new List<string>
        {
            timeMajor,
            g.Weight("W", w.unsqueeze(0)),
            g.Weight("R", r.unsqueeze(0)),
            bias is null ? "" : g.Weight("B", bias.unsqueeze(0)),
            lengths,
        };
        for (int k = 0; k < rnn.Cell.StateCount; k++)
            inputs.Add(initial is null ? "" : g.Node("Unsqueeze", [initial[k], g.Int64s("axes", 0)]));
        if (peepholes is not null)
            inputs.Add(g.Weight("P", peepholes));
        while (inputs[^1].Length == 0)
            inputs.RemoveAt(inputs.Count - 1);
        return inputs;
    }

    /// <summary>
    /// A recurrent layer under a Keras mask, which skips masked steps wherever they are (the state is
    /// carried over them; the output there repeats the previous one, or is zero with
    /// <c>zeroOutputForMask</c>). ONNX's operators only stop early (<c>sequence_lens</c>), so each
    /// sample's unmasked steps are first moved to the front in order (<c>TopK</c> on
    /// <c>masked * T + t</c>, then <c>GatherElements</c>), run with <c>sequence_lens</c> = their count,
    /// and the outputs are gathered back to the original steps: step t takes compacted output
    /// <c>cumsum(mask)[t] - 1</c>. <c>goBackwards</c> flips input and mask first, so the result is in
    /// Keras's processing order. A sample with every step masked gives zeros, as in Keras, and its
    /// final states are the initial ones (zeros without <paramref name="initial"/>): nothing was processed.
    /// </summary>
    private static (string Y, string[] States) Masked(B g, Rnn rnn, string x, string mask, string op, Tensor w, Tensor r, Tensor? bias, Tensor? peepholes,
        List<AttributeProto> attributes, IReadOnlyList<string>? initial)
    {
        if (rnn.GoBackwards)
        {
            x = FlipTime(g, x, 1);
            mask = FlipTime(g, mask, 1);
        }
        var keep = g.Cast(mask, B.FloatType);                                                   // (batch, T) 0/1
        var steps = g.Node("Gather", [g.Node("Shape", [x]), g.Int64s("time_axis", 1)], B.Int("axis", 0));   // [T]
        var time = g.Cast(g.Node("Range", [g.Int64Scalar("zero", 0), g.Node("Squeeze", [steps, g.Int64s("axes", 0)]), g.Int64Scalar("one", 1)]), B.FloatType);
        var one = g.Float32s("one", [1], 1f);
        var keys = g.Node("Add", [g.Node("Mul", [g.Node("Sub", [one, keep]), g.Cast(steps, B.FloatType)]), time]);
        var order = g.Node("TopK", [keys, steps], 2, B.Int("axis", 1), B.Int("largest", 0), B.Int("sorted", 1))[1];
        var shape = g.Node("Shape", [x]);
        var compact = g.Node("GatherElements", [x, g.Node("Expand", [g.Node("Unsqueeze", [order, g.Int64s("axes", 2)]), shape])], B.Int("axis", 1));

        var count = g.Reduce("ReduceSum", keep, [1], false);                                  // (batch,)
        var lengths = g.Cast(g.Node("Max", [count, one]), B.Int32Type);                           // ONNX Runtime needs at least one step
        var anyStep = g.Node("Unsqueeze", [g.Node("Greater", [count, g.Float32s("zero", [1], 0f)]), g.Int64s("axes", 1)]);   // (batch, 1) bool
        var any = g.Cast(anyStep, g.ElementType);

        var inputs = OperatorInputs(g, rnn, g.Node("Transpose", [compact], B.Ints("perm", 1, 0, 2)), w, r, bias, lengths, peepholes, initial);
        var outputs = g.Node(op, inputs, 1 + rnn.Cell.StateCount, [.. attributes]);
        var final = outputs.Skip(1).Select(s => g.Node("Squeeze", [s, g.Int64s("axes", 0)])).ToArray();
        var states = final.Select((s, k) => initial is null ? g.Node("Mul", [s, any]) : g.Node("Where", [anyStep, s, initial[k]])).ToArray();
        if (!rnn.ReturnSequences)
            return (g.Node("Mul", [final[0], any]), states);

        var sequence = g.Node("Transpose", [g.Node("Squeeze", [outputs[0], g.Int64s("axes", 1)])], B.Ints("perm", 1, 0, 2));   // (batch, T, units), compacted
        var seen = g.Node("CumSum", [keep, g.Int64Scalar("axis", 1)]);
        var source = g.Cast(g.Node("Max", [g.Node("Sub", [seen, one]), g.Float32s("zero", [1], 0f)]), B.Int64Type);
        var spread = g.Node("GatherElements", [sequence, g.Node("Expand", [g.Node("Unsqueeze", [source, g.Int64s("axes", 2)]), g.Node("Shape", [sequence])])], B.Int("axis", 1));
        var valid = rnn.ZeroOutputForMask ? keep : g.Cast(g.Node("Greater", [seen, g.Float32s("zero", [1], 0f)]), B.FloatType);
        return (g.Node("Mul", [spread, g.Node("Unsqueeze", [g.Cast(valid, g.ElementType), g.Int64s("axes", 2)])]), states);
    }

    /// <summary>An activation of ONNX's recurrent operators, with the alpha and beta it consumes from the lists.</summary>
    private static (string Name, double[] Alpha, double[] Beta) RecurrentActivation(Rnn rnn, Activation activation) => activation.Name switch
    {
        "sigmoid" => ("Sigmoid", [], []),
        "tanh" => ("Tanh", [], []),
        "relu" => ("Relu", [], []),
        "linear" => ("Affine", [1.0], [0.0]),
        "hard_sigmoid" => ("HardSigmoid", [1.0 / 6], [0.5]),
        "hard_sigmoid_keras2" => ("HardSigmoid", [0.2], [0.5]),
        "elu" => ("Elu", [1.0], []),
        "softsign" => ("Softsign", [], []),
        "softplus" => ("Softplus", [], []),
        _ => throw new NotSupportedException(
            $"Layer '{rnn.Name}' of type {rnn.ClassName}: activation '{activation.Name}' has no ONNX form inside ONNX's recurrent operators " +
            "(they take Sigmoid, Tanh, Relu, Affine, HardSigmoid, Elu, Softsign, Softplus, LeakyRelu, ThresholdedRelu, ScaledTanh)."),
    };

    /// <summary>A graph input or output: <c>batch</c> dynamic, and the time axis too when <paramref name="time"/> is given ("" for an unnamed dynamic size).</summary>
    private static ValueInfoProto ValueInfo(string name, int elementType, long[] sampleShape, string? time)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        for (int i = 0; i < sampleShape.Length; i++)
        {
            shape.Dim.Add(i == 0 && time is not null
                ? (time.Length > 0 ? new TensorShapeProto.Types.Dimension { DimParam = time } : new TensorShapeProto.Types.Dimension())
                : sampleShape[i] == -1 ? new TensorShapeProto.Types.Dimension { DimParam = i == 0 ? "time" : $"dim{i + 1}" }
                : new TensorShapeProto.Types.Dimension { DimValue = sampleShape[i] });
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } },
        };
    }
}
