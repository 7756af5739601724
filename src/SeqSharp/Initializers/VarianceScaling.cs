using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Initializers;

/// <summary>
/// Samples with a variance scaled to the weight's fans (Keras <c>VarianceScaling</c>):
/// <c>n</c> is fanIn, fanOut or their mean (by <see cref="Mode"/>); a uniform distribution has limit
/// <c>sqrt(3 scale / n)</c>; a normal one is truncated at two standard deviations with standard
/// deviation <c>sqrt(scale / n) / 0.8796</c>, as in Keras.
/// </summary>
public class VarianceScaling : Initializer
{
    /// <summary>Creates the initializer.</summary>
    /// <param name="scale">Positive scaling factor.</param>
    /// <param name="mode"><c>"fan_in"</c>, <c>"fan_out"</c> or <c>"fan_avg"</c>.</param>
    /// <param name="distribution"><c>"truncated_normal"</c>, <c>"untruncated_normal"</c> or <c>"uniform"</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive scale.</exception>
    /// <exception cref="ArgumentException">An unknown mode or distribution.</exception>
    public VarianceScaling(double scale = 1.0, string mode = "fan_in", string distribution = "truncated_normal")
    {
        if (!(scale > 0))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, $"Expected a positive scale. Received: scale={scale}.");
        if (mode is not ("fan_in" or "fan_out" or "fan_avg"))
            throw new ArgumentException($"Expected mode 'fan_in', 'fan_out' or 'fan_avg'. Received: mode='{mode}'.", nameof(mode));
        if (distribution == "normal")
            distribution = "truncated_normal";
        if (distribution is not ("truncated_normal" or "untruncated_normal" or "uniform"))
            throw new ArgumentException(
                $"Expected distribution 'truncated_normal', 'untruncated_normal' or 'uniform'. Received: distribution='{distribution}'.", nameof(distribution));
        Scale = scale;
        Mode = mode;
        Distribution = distribution;
    }

    /// <summary>The scaling factor.</summary>
    public double Scale { get; }

    /// <summary>Which fan scales the variance.</summary>
    public string Mode { get; }

    /// <summary>The distribution sampled.</summary>
    public string Distribution { get; }

    /// <inheritdoc />
    public override Tensor Create(long[] shape, ScalarType dtype)
    {
        var (fanIn, fanOut) = ComputeFans(shape);
        double n = Mode switch
        {
            "fan_in" => fanIn,
            "fan_out" => fanOut,
            _ => (fanIn + fanOut) / 2,
        };
        double variance = Scale / Math.Max(1.0, n);
        using var _ = torch.no_grad();
        switch (Distribution)
        {
            case "uniform":
            {
                double limit = Math.Sqrt(3 * variance);
                return torch.empty(shape, dtype).uniform_(-limit, limit);
            }
            case "untruncated_normal":
                return torch.empty(shape, dtype).normal_(0, Math.Sqrt(variance));
            default:
            {
                // 0.8796 is the standard deviation of a unit normal truncated to [-2, 2].
                double std = Math.Sqrt(variance) / 0.87962566103423978;
                return TruncatedNormal(shape, std, dtype);
            }
        }
    }

    /// <summary>
    /// Samples N(0, std²) truncated to [-2 std, 2 std] by the inverse CDF, as PyTorch's
    /// <c>nn.init.trunc_normal_</c> does.
    /// </summary>
    /// <remarks>
    /// TorchSharp 0.107's <c>nn.init.trunc_normal_</c> cannot be used: its native code multiplies by
    /// the mean and adds the standard deviation (swapped) and drops the √2, so with mean 0 it fills the
    /// tensor with the constant <c>std</c>.
    /// </remarks>
    private static Tensor TruncatedNormal(long[] shape, double std, ScalarType dtype)
    {
        // erf(√2) = P(|N(0, 1)| < 2): uniform on (-erf(√2), erf(√2)) maps through √2·erfinv onto (-2, 2).
        const double Erf2 = 0.9544997361036416;
        var unit = torch.empty(shape, ScalarType.Float64).uniform_(-Erf2, Erf2).erfinv_().mul_(std * Math.Sqrt(2));
        return unit.clamp_(-2 * std, 2 * std).to_type(dtype);
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>
    {
        ["scale"] = Scale,
        ["mode"] = Mode,
        ["distribution"] = Distribution,
    };
}
