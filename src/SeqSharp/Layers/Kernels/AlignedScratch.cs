using System.Runtime.InteropServices;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// Scratch memory for a kernel loop, aligned to 64 bytes as LibTorch aligns tensors, and freed on
/// <see cref="Dispose"/>. Its contents start undefined: every element must be written before it is read.
/// </summary>
/// <remarks>
/// The BLAS (MKL) does not promise the same rounding for operands at different alignments (its
/// "conditional numerical reproducibility" needs aligned memory), and managed arrays move between
/// calls and are only 8-byte aligned. Scratch that a product reads or writes at a different alignment
/// from one call to the next made two identical calls differ in the last bit (seen as a 1.5e-8
/// difference between <see cref="Bidirectional"/>'s directions run at once and one after the other).
/// With every operand at a fixed offset from a 64-byte boundary, the same call gives the same bits.
/// </remarks>
internal readonly unsafe struct AlignedScratch<T> : IDisposable where T : unmanaged
{
    /// <summary>Allocates room for <paramref name="length"/> elements (at least one).</summary>
    public AlignedScratch(long length) =>
        Pointer = (T*)NativeMemory.AlignedAlloc((nuint)(Math.Max(1, length) * sizeof(T)), 64);

    /// <summary>The first element.</summary>
    public T* Pointer { get; }

    /// <summary>Frees the memory.</summary>
    public void Dispose() => NativeMemory.AlignedFree(Pointer);
}
