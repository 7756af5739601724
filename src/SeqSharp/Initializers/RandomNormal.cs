using static TorchSharp.torch;

namespace SeqSharp.Initializers;

/// <summary>Normal samples (Keras <c>RandomNormal</c>).</summary>
public sealed class RandomNormal : Initializer
{
    /// <summary>Creates the initializer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative standard deviation.</exception>
    public RandomNormal(double mean = 0.0, double stddev = 0.05)
    {
        if (!(stddev >= 0))
            throw new ArgumentOutOfRangeException(nameof(stddev), stddev, $"Expected stddev >= 0. Received: stddev={stddev}.");
        Mean = mean;
        Stddev = stddev;
    }

    /// <summary>The mean.</summary>
    public double Mean { get; }

    /// <summary>The standard deviation.</summary>
    public double Stddev { get; }

    /// <inheritdoc />
    public override Tensor Create(long[] shape, ScalarType dtype)
    {
        using var _ = no_grad();
        return empty(shape, dtype).normal_(Mean, Stddev);
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?> { ["mean"] = Mean, ["stddev"] = Stddev };
}
