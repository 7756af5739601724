namespace SeqSharp.Initializers;

/// <summary>Glorot (Xavier) normal: truncated normal with standard deviation <c>sqrt(2 / (fanIn + fanOut))</c>.</summary>
public sealed class GlorotNormal : VarianceScaling
{
    /// <summary>Creates the initializer.</summary>
    public GlorotNormal() : base(1.0, "fan_avg", "truncated_normal") { }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>();
}
