namespace SeqSharp.Initializers;

/// <summary>Glorot (Xavier) uniform: limit <c>sqrt(6 / (fanIn + fanOut))</c>; Keras's default kernel initializer.</summary>
public sealed class GlorotUniform : VarianceScaling
{
    /// <summary>Creates the initializer.</summary>
    public GlorotUniform() : base(1.0, "fan_avg", "uniform") { }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>();
}
