using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Data;

/// <summary>Turns the arrays users pass (rectangular or rectangular jagged, numeric or bool) into CPU tensors.</summary>
internal static class TensorData
{
    private static readonly Dictionary<Type, ScalarType> Types = new()
    {
        [typeof(float)] = ScalarType.Float32,
        [typeof(double)] = ScalarType.Float64,
        [typeof(int)] = ScalarType.Int32,
        [typeof(long)] = ScalarType.Int64,
        [typeof(short)] = ScalarType.Int16,
        [typeof(byte)] = ScalarType.Byte,
        [typeof(sbyte)] = ScalarType.Int8,
        [typeof(bool)] = ScalarType.Bool,
    };

    /// <summary>
    /// Copies a rectangular array (<c>float[,,]</c>, <c>int[,]</c>, ...) or a rectangular jagged
    /// array (<c>int[][]</c>, <c>float[][][]</c>) into a new tensor of the same shape. Floating-point
    /// data becomes <paramref name="dtype"/>; integer and bool data keep their type (as NumPy arrays
    /// do in Keras), so that index inputs and sparse labels stay integers; layers that compute in
    /// floating point cast them.
    /// </summary>
    /// <exception cref="ArgumentException">An unsupported element type, or a ragged jagged array (the message points to <c>Utils.PadSequences</c>).</exception>
    public static Tensor FromArray(Array array, string argument, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(array, argument);
        var (leafType, shape, leaves) = Describe(array, argument);
        if (!Types.TryGetValue(leafType, out var type))
            throw new ArgumentException(
                $"Expected an array of float, double, int, long, short, byte, sbyte or bool (rectangular such as float[,,], or jagged such as int[][]) for '{argument}'. " +
                $"Received: {array.GetType().Name}.", argument);
        long length = shape.Aggregate(1L, (a, b) => a * b);
        var flat = Array.CreateInstance(leafType, length);
        int elementSize = leafType == typeof(bool) ? 1 : System.Runtime.InteropServices.Marshal.SizeOf(leafType);
        long offset = 0;
        foreach (var leaf in leaves)
        {
            int bytes = Buffer.ByteLength(leaf);
            Buffer.BlockCopy(leaf, 0, flat, (int)(offset * elementSize), bytes);
            offset += leaf.Length;
        }
        var tensor = flat switch
        {
            float[] f => torch.tensor(f, shape),
            double[] d => torch.tensor(d, shape),
            int[] i => torch.tensor(i, shape),
            long[] l => torch.tensor(l, shape),
            short[] s => torch.tensor(s, shape),
            byte[] b => torch.tensor(b, shape),
            sbyte[] sb => torch.tensor(sb, shape),
            bool[] z => torch.tensor(z, shape),
            _ => throw new InvalidOperationException($"Unhandled element type {leafType.Name}."),
        };
        return type is ScalarType.Float32 or ScalarType.Float64 ? ConvertTo(tensor, dtype) : tensor;
    }

    /// <summary>The element type, the shape and the arrays holding the elements in row-major order.</summary>
    private static (Type Leaf, long[] Shape, List<Array> Leaves) Describe(Array array, string argument)
    {
        var element = array.GetType().GetElementType()!;
        if (!element.IsArray)
            return (element, Enumerable.Range(0, array.Rank).Select(d => (long)array.GetLength(d)).ToArray(), [array]);
        if (array.Rank != 1)
            throw new ArgumentException($"Expected a rectangular array or a jagged array (T[][], T[][][]) for '{argument}'. Received: {array.GetType().Name}.", argument);
        // A jagged array: every row at each level must have the same length.
        var shape = new List<long> { array.Length };
        var level = array.Cast<Array?>().ToList();
        var path = new List<string>();
        while (true)
        {
            for (int i = 0; i < level.Count; i++)
            {
                if (level[i] is null)
                    throw new ArgumentException($"'{argument}' is a jagged array with a null row (row {i} at depth {shape.Count}).", argument);
            }
            var rows = level.Cast<Array>().ToList();
            if (rows.Count == 0)
            {
                shape.Add(0);
                return (LeafType(array.GetType()), [.. shape], []);
            }
            if (rows.Any(r => r.Rank != 1))
                throw new ArgumentException($"Expected a rectangular array or a jagged array (T[][], T[][][]) for '{argument}'. Received: {array.GetType().Name}.", argument);
            int length = rows[0].Length;
            int ragged = rows.FindIndex(r => r.Length != length);
            if (ragged >= 0)
                throw new ArgumentException(
                    $"'{argument}' is a ragged jagged array: at depth {shape.Count} row {ragged} has {rows[ragged].Length} elements but row 0 has {length}. " +
                    "Sequences of different lengths must be padded to one length first: Utils.PadSequences(sequences, maxlen: ..., padding: \"pre\") " +
                    "(then mask the padding with Masking or Embedding(maskZero: true)), or fed one batch at a time from a generator to a model with a None time axis.",
                    argument);
            shape.Add(length);
            if (!rows[0].GetType().GetElementType()!.IsArray)
                return (rows[0].GetType().GetElementType()!, [.. shape], rows);
            level = rows.SelectMany(r => r.Cast<Array?>()).ToList();
        }
    }

    private static Type LeafType(Type type)
    {
        while (type.IsArray)
            type = type.GetElementType()!;
        return type;
    }

    /// <summary>Returns <paramref name="source"/> in <paramref name="dtype"/>, disposing it when a converted copy replaces it.</summary>
    private static Tensor ConvertTo(Tensor source, ScalarType dtype)
    {
        if (source.dtype == dtype)
            return source;
        using (source)
            return source.to_type(dtype);
    }
}
