using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace SeqSharp.Layers.Kernels;

/// <summary>Raw access to the memory of contiguous CPU tensors, for the managed parts of the kernels.</summary>
internal static unsafe class TensorMemory
{
    /// <summary>
    /// A pointer to the first element of <paramref name="tensor"/>, which must be contiguous, on the
    /// CPU and of element type <typeparamref name="T"/>. Valid while the tensor is alive.
    /// </summary>
    public static T* Pointer<T>(Tensor tensor) where T : unmanaged
    {
        if (!tensor.is_contiguous())
            throw new InvalidOperationException("Internal error: a kernel tensor must be contiguous.");
        var bytes = tensor.bytes;
        return (T*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(bytes));
    }
}
