namespace SeqSharp.Initializers;

/// <summary>He normal: truncated normal with standard deviation <c>sqrt(2 / fanIn)</c>.</summary>
public sealed class HeNormal : VarianceScaling
{
    /// <summary>Creates the initializer.</summary>
    public HeNormal() : base(2.0, "fan_in", "truncated_normal") { }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>();
}
