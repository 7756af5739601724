using static TorchSharp.torch;

namespace SeqSharp.Initializers;

/// <summary>Uniform samples in [minval, maxval) (Keras <c>RandomUniform</c>).</summary>
public sealed class RandomUniform : Initializer
{
    /// <summary>Creates the initializer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxval"/> is not above <paramref name="minval"/>.</exception>
    public RandomUniform(double minval = -0.05, double maxval = 0.05)
    {
        if (!(maxval > minval))
            throw new ArgumentOutOfRangeException(nameof(maxval), maxval, $"Expected maxval > minval. Received: minval={minval}, maxval={maxval}.");
        Minval = minval;
        Maxval = maxval;
    }

    /// <summary>Lower bound.</summary>
    public double Minval { get; }

    /// <summary>Upper bound.</summary>
    public double Maxval { get; }

    /// <inheritdoc />
    public override Tensor Create(long[] shape, ScalarType dtype)
    {
        using var _ = no_grad();
        return empty(shape, dtype).uniform_(Minval, Maxval);
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?> { ["minval"] = Minval, ["maxval"] = Maxval };
}
