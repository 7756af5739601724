using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace SeqSharp.Onnx;

/// <summary>
/// Appends nodes and weights to an ONNX graph, with unique value names. An initializer with the
/// same type, shape and bytes as an earlier one is not added again: the earlier one's name is
/// returned, so a layer applied twice in a functional graph (a shared layer) has one set of weights.
/// </summary>
internal sealed class OnnxGraphBuilder(GraphProto graph, ScalarType dtype, int opset)
{
    private int _counter;
    private readonly HashSet<string> _reserved = [];
    private readonly Dictionary<string, string> _initializers = [];

    /// <summary>ONNX's element type codes used here.</summary>
    public const int FloatType = (int)TensorProto.Types.DataType.Float, Int64Type = (int)TensorProto.Types.DataType.Int64,
        Int32Type = (int)TensorProto.Types.DataType.Int32, BoolType = (int)TensorProto.Types.DataType.Bool;

    /// <summary>The opset the graph is written for.</summary>
    public int Opset { get; } = opset;

    /// <summary>The ONNX element type of the model's float tensors: FLOAT (1) or DOUBLE (11).</summary>
    public int ElementType { get; } = dtype == ScalarType.Float64 ? (int)TensorProto.Types.DataType.Double : (int)TensorProto.Types.DataType.Float;

    /// <summary>The model's float element type.</summary>
    public ScalarType DType { get; } = dtype;

    /// <summary>Keeps a name (a graph input's or output's) from being given to any other value.</summary>
    public void Reserve(string name) => _reserved.Add(name);

    /// <summary>A new value name starting with <paramref name="prefix"/>, never a reserved one.</summary>
    public string Name(string prefix)
    {
        string name;
        do
            name = $"{prefix}_{_counter++}";
        while (_reserved.Contains(name));
        return name;
    }

    /// <summary>Adds an initializer unless an equal one exists; returns the name of the one in the graph.</summary>
    private string Add(TensorProto proto)
    {
        var copy = proto.Clone();
        copy.Name = "";
        string key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(copy.ToByteArray()));
        if (_initializers.TryGetValue(key, out var existing))
            return existing;
        graph.Initializer.Add(proto);
        _initializers[key] = proto.Name;
        return proto.Name;
    }

    /// <summary>Adds a weight (converted to the model's element type) as an initializer and returns its name.</summary>
    public string Weight(string prefix, Tensor value)
    {
        using var cpu = value.detach().cpu().to_type(DType).contiguous();
        var proto = new TensorProto { Name = Name(prefix), DataType = ElementType };
        proto.Dims.AddRange(cpu.shape);
        proto.RawData = DType == ScalarType.Float64
            ? ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(cpu.data<double>().ToArray().AsSpan()))
            : ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()));
        return Add(proto);
    }

    /// <summary>Adds an int64 vector initializer (shapes, axes, slice bounds) and returns its name.</summary>
    public string Int64s(string prefix, params long[] values)
    {
        var proto = new TensorProto { Name = Name(prefix), DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        return Add(proto);
    }

    /// <summary>Adds a 0-d int64 initializer (the scalars <c>Range</c> and <c>CumSum</c> take).</summary>
    public string Int64Scalar(string prefix, long value)
    {
        var proto = new TensorProto { Name = Name(prefix), DataType = Int64Type };
        proto.Int64Data.Add(value);
        return Add(proto);
    }

    /// <summary>Adds a float32 initializer of any shape (index arithmetic, whatever the model's type).</summary>
    public string Float32s(string prefix, long[] shape, params float[] values)
    {
        var proto = new TensorProto { Name = Name(prefix), DataType = FloatType };
        proto.Dims.AddRange(shape);
        proto.FloatData.AddRange(values);
        return Add(proto);
    }

    /// <summary><c>Cast</c> to an ONNX element type.</summary>
    public string Cast(string x, int to) => Node("Cast", [x], Int("to", to));

    /// <summary>
    /// A reduction over <paramref name="axes"/>: ReduceSum takes its axes as an input from opset 13,
    /// the others (ReduceMean, ReduceMax) from opset 18 and as an attribute before.
    /// </summary>
    public string Reduce(string op, string x, long[] axes, bool keepdims)
    {
        var keep = Int("keepdims", keepdims ? 1 : 0);
        return op == "ReduceSum" || Opset >= 18
            ? Node(op, [x, Int64s("axes", axes)], keep)
            : Node(op, [x], Ints("axes", axes), keep);
    }

    /// <summary>Adds a float scalar initializer of the model's element type.</summary>
    public string Scalar(string prefix, double value) => Weight(prefix, tensor(value, DType));

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string op, IEnumerable<string> inputs, params AttributeProto[] attributes) =>
        Node(op, inputs, 1, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputs"/> outputs and returns their names.</summary>
    public string[] Node(string op, IEnumerable<string> inputs, int outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = Name(op) };
        node.Input.AddRange(inputs);
        var names = Enumerable.Range(0, outputs).Select(_ => Name(op.ToLowerInvariant())).ToArray();
        node.Output.AddRange(names);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return names;
    }

    /// <summary>An integer attribute.</summary>
    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A float attribute.</summary>
    public static AttributeProto Float(string name, double value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = (float)value };

    /// <summary>A string attribute.</summary>
    public static AttributeProto String(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    /// <summary>A list-of-integers attribute.</summary>
    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>A list-of-floats attribute.</summary>
    public static AttributeProto Floats(string name, IEnumerable<double> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats };
        attribute.Floats.AddRange(values.Select(v => (float)v));
        return attribute;
    }

    /// <summary>A list-of-strings attribute.</summary>
    public static AttributeProto Strings(string name, IEnumerable<string> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        attribute.Strings.AddRange(values.Select(ByteString.CopyFromUtf8));
        return attribute;
    }
}
