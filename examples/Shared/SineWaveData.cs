using static TorchSharp.torch;

namespace SeqSharp.Examples;

/// <summary>
/// Sequence-to-sequence regression data for the two introductory examples: each input is 10
/// consecutive noisy readings of a sine wave of random phase and frequency; the target at each step
/// is the clean value one step ahead. A model must denoise and extrapolate, so a good one clearly
/// beats the naive forecast "next = current".
/// </summary>
public static class SineWaveData
{
    /// <summary>Steps per sequence (the document's <c>input_shape=(10, 1)</c>).</summary>
    public const int Steps = 10;

    /// <summary>
    /// Generates <paramref name="samples"/> sequences: x <c>(samples, 10, 1)</c> noisy readings,
    /// y <c>(samples, 10, 1)</c> the clean signal one step later.
    /// </summary>
    public static (Tensor X, Tensor Y) Generate(int samples, double noise = 0.1)
    {
        var phase = rand(samples, 1) * (2 * Math.PI);
        var frequency = 0.15 + 0.25 * rand(samples, 1);     // radians per step
        var t = arange(Steps + 1, dtype: ScalarType.Float32).unsqueeze(0);
        var clean = sin(phase + frequency * t);              // (samples, 11)
        var x = clean[.., ..Steps] + noise * randn(samples, Steps);
        var y = clean[.., 1..];
        return (x.unsqueeze(-1), y.unsqueeze(-1));
    }

    /// <summary>Mean squared error of the naive forecast that repeats the current reading.</summary>
    public static double PersistenceMse(Tensor x, Tensor y) => (x - y).pow(2).mean().item<float>();
}
