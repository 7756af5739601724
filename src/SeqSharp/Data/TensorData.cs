using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Data;

/// <summary>Turns the inputs users pass (tensors, rectangular float or double arrays) into float32 CPU tensors.</summary>
internal static class TensorData
{
    /// <summary>
    /// Copies a rectangular <c>float</c> or <c>double</c> array (<c>float[,,]</c>, ...) into a new
    /// tensor of the same shape and of element type <paramref name="dtype"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Another element type, or a jagged array.</exception>
    public static Tensor FromArray(Array array, string argument, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(array, argument);
        var type = array.GetType().GetElementType();
        if (type != typeof(float) && type != typeof(double))
            throw new ArgumentException(
                $"Expected a rectangular array of float or double (such as float[,,]) for '{argument}'. Received: {array.GetType().Name}.", argument);
        var shape = Enumerable.Range(0, array.Rank).Select(d => (long)array.GetLength(d)).ToArray();
        ref byte start = ref MemoryMarshal.GetArrayDataReference(array);
        if (type == typeof(float))
        {
            var span = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<byte, float>(ref start), array.Length);
            return ConvertTo(torch.tensor(span.ToArray(), shape, ScalarType.Float32), dtype);
        }
        var doubles = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<byte, double>(ref start), array.Length);
        return ConvertTo(torch.tensor(doubles.ToArray(), shape, ScalarType.Float64), dtype);
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
