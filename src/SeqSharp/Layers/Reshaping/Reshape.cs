using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// Reshapes each sample (Keras <c>Reshape</c>): <c>(batch, ...)</c> becomes <c>(batch, targetShape)</c>,
/// in row-major order. One size of the target may be -1, inferred from the others.
/// </summary>
/// <example>
/// <code>
/// model.Add(new Dense(24, inputShape: [8]));
/// model.Add(new Reshape([-1, 2]));      // (batch, 12, 2)
/// </code>
/// </example>
public sealed class Reshape : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="targetShape">The sample shape to produce, without the batch axis; at most one -1.</param>
    /// <param name="inputShape">Sample shape when this is the first layer.</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentException">An empty target, more than one -1, or a size that is neither positive nor -1.</exception>
    public Reshape(long[] targetShape, long?[]? inputShape = null, string? name = null, ScalarType? dtype = null)
        : base(name, inputShape, dtype)
    {
        ArgumentNullException.ThrowIfNull(targetShape);
        if (targetShape.Length == 0 || targetShape.Count(d => d == -1) > 1 || targetShape.Any(d => d == 0 || d < -1))
            throw new ArgumentException(
                $"Expected a target shape of positive sizes with at most one -1. Received: targetShape=[{string.Join(", ", targetShape)}].", nameof(targetShape));
        TargetShape = targetShape.ToArray();
    }

    /// <summary>The sample shape produced (as given, possibly with -1).</summary>
    public long[] TargetShape { get; }

    /// <inheritdoc />
    public override InputSpec InputSpec => new(MinRank: 1);

    /// <inheritdoc />
    protected override void BuildCore(long[] sampleShape) => ComputeOutputShape(sampleShape);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The target cannot hold the input's elements.</exception>
    public override long[] ComputeOutputShape(long[] sampleShape)
    {
        if (sampleShape.Contains(-1))
            return TargetShape.ToArray();   // checked when called, as the size is known only then
        long total = sampleShape.Aggregate(1L, (a, d) => a * d);
        long known = TargetShape.Where(d => d != -1).Aggregate(1L, (a, d) => a * d);
        bool inferred = TargetShape.Contains(-1);
        if (inferred ? total % known != 0 : total != known)
            throw new ArgumentException(
                $"Layer '{Name}' cannot reshape samples of shape {ShapeText.Format(sampleShape)} ({total} elements) into [{string.Join(", ", TargetShape)}]: " +
                "the total size of the new shape must be unchanged.");
        return TargetShape.Select(d => d == -1 ? total / known : d).ToArray();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => x.reshape([x.shape[0], .. ComputeOutputShape(x.shape[1..])]);

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["target_shape"] = TargetShape.ToArray();
        return config;
    }

    internal static Reshape FromConfig(LayerConfig c) => new(c.Longs("target_shape"), c.InputShape, c.Name, c.DType);
}
