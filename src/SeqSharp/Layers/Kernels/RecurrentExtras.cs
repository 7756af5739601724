using static TorchSharp.torch;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// What a fused call adds to the plain equations: Keras's padding mask and the per-gate dropout
/// masks that Keras draws once per call when recurrent dropout is on.
/// </summary>
/// <param name="Mask">The padding mask in processing order, or null.</param>
/// <param name="InputMasks">Per-gate input dropout masks <c>(gates, batch, features)</c>, or null (a mask shared by all gates is applied to the input before the kernel).</param>
/// <param name="RecurrentMasks">Per-gate recurrent dropout masks <c>(gates, batch, units)</c> (one for SimpleRNN), or null.</param>
internal sealed record RecurrentExtras(StepMask? Mask, Tensor? InputMasks, Tensor? RecurrentMasks)
{
    /// <summary>No mask, no dropout.</summary>
    public static readonly RecurrentExtras None = new(null, null, null);
}
