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
internal static class OnnxExporter
{
    /// <summary>The oldest opset written: <c>Squeeze</c> and <c>Unsqueeze</c> take their axes as inputs from opset 13.</summary>
    public const int MinOpset = 14;

    /// <summary>The newest opset written (ONNX 1.16's operators used here do not change up to it).</summary>
    public const int MaxOpset = 21;

    /// <summary>The graph of a built model.</summary>
    /// <exception cref="NotSupportedException">A layer, option or activation without an ONNX form; the message names it.</exception>
    public static ModelProto Export(Sequential model, int opset)
    {
        var dtype = model.Layers[0].DType;
        var graph = new GraphProto { Name = model.Name };
        var g = new B(graph, dtype);
        graph.Input.Add(ValueInfo("input", g.ElementType, model.InputShape!));
        string x = "input";
        foreach (var layer in model.Layers)
            x = Layer(g, layer, x);
        g.Node("Identity", [x]);
        graph.Node[^1].Output[0] = "output";
        graph.Output.Add(ValueInfo("output", g.ElementType, model.OutputShape!));

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

    private static string Layer(B g, Layer layer, string x) => layer switch
    {
        InputLayer or Dropout or SpatialDropout1D or GaussianNoise => x,
        Dense dense => Dense(g, dense, x),
        Layers.Activation activationLayer => Activate(g, activationLayer.Function, x, layer),
        Flatten => g.Node("Flatten", [x], B.Int("axis", 1)),
        Reshape reshape => g.Node("Reshape", [x, g.Int64s("shape", [0, .. reshape.TargetShape])]),
        RepeatVector repeat => g.Node("Tile", [g.Node("Unsqueeze", [x, g.Int64s("axes", 1)]), g.Int64s("repeats", 1, repeat.N, 1)]),
        Permute permute => g.Node("Transpose", [x], B.Ints("perm", [0, .. permute.Dims.Select(d => (long)d)])),
        Rnn rnn => Recurrent(g, rnn, x),
        // Dense and element-wise layers already act on the last axis at every time step.
        TimeDistributed { Layer: Layers.Dense or Layers.Activation or Dropout or GaussianNoise } wrapper => Layer(g, wrapper.Layer, x),
        _ => throw new NotSupportedException(
            $"Layer '{layer.Name}' of type {layer.ClassName} cannot be exported to ONNX. Exportable: InputLayer, Dense, Activation, Dropout, " +
            "SpatialDropout1D, GaussianNoise (identities at inference), Flatten, Reshape, RepeatVector, Permute, SimpleRNN, LSTM, GRU, " +
            "TimeDistributed of Dense, Activation, Dropout or GaussianNoise."),
    };

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

    private static string Recurrent(B g, Rnn rnn, string x)
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
        attributes.Add(B.String("direction", rnn.GoBackwards ? "reverse" : "forward"));
        var onnx = activations.Select(a => RecurrentActivation(rnn, a)).ToList();
        attributes.Add(B.Strings("activations", onnx.Select(a => a.Name)));
        var alphas = onnx.SelectMany(a => a.Alpha).ToList();
        var betas = onnx.SelectMany(a => a.Beta).ToList();
        if (alphas.Count > 0)
            attributes.Add(B.Floats("activation_alpha", alphas));
        if (betas.Count > 0)
            attributes.Add(B.Floats("activation_beta", betas));

        var inputs = new List<string>
        {
            g.Node("Transpose", [x], B.Ints("perm", 1, 0, 2)),
            g.Weight("W", w.unsqueeze(0)),
            g.Weight("R", r.unsqueeze(0)),
            bias is null ? "" : g.Weight("B", bias.unsqueeze(0)),
        };
        if (peepholes is not null)
            inputs.AddRange(["", "", "", g.Weight("P", peepholes)]);
        while (inputs[^1].Length == 0)
            inputs.RemoveAt(inputs.Count - 1);
        var outputs = g.Node(op, inputs, 2, [.. attributes]);

        if (!rnn.ReturnSequences)
            return g.Node("Squeeze", [outputs[1], g.Int64s("axes", 0)]);
        var sequence = g.Node("Squeeze", [outputs[0], g.Int64s("axes", 1)]);
        if (rnn.GoBackwards)
            sequence = g.Node("Slice", [sequence, g.Int64s("starts", -1), g.Int64s("ends", long.MinValue), g.Int64s("axes", 0), g.Int64s("steps", -1)]);
        return g.Node("Transpose", [sequence], B.Ints("perm", 1, 0, 2));
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

    private static ValueInfoProto ValueInfo(string name, int elementType, long[] sampleShape)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (var d in sampleShape)
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } },
        };
    }
}
