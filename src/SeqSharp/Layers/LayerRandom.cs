using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// The random numbers of a layer with a <c>seed</c> argument (Keras's per-layer
/// <c>SeedGenerator</c>): its own generator when seeded, so that its draws repeat from run to run,
/// else TorchSharp's global generator (which <see cref="Utils.SetRandomSeed"/> seeds).
/// </summary>
internal sealed class LayerRandom(long? seed)
{
    private readonly Generator? _generator = seed is long value ? new Generator(unchecked((ulong)value), torch.CPU) : null;

    /// <summary>The seed, or null.</summary>
    public long? Seed => seed;

    /// <summary>
    /// An inverted-dropout mask: each element 0 with probability <paramref name="rate"/>, else
    /// <c>1 / (1 - rate)</c>, so that the expected value of the masked input is unchanged.
    /// </summary>
    public Tensor DropoutMask(long[] shape, double rate, ScalarType dtype)
    {
        double keep = 1 - rate;
        if (keep <= 0)
            return torch.zeros(shape, dtype);
        using var uniform = torch.rand(shape, dtype: dtype, generator: _generator);
        using var kept = uniform.lt(keep);
        return kept.to_type(dtype).div_(keep);
    }

    /// <summary>Standard normal samples.</summary>
    public Tensor Normal(long[] shape, ScalarType dtype) => torch.randn(shape, dtype: dtype, generator: _generator);
}
