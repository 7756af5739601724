namespace SeqSharp.Initializers;

/// <summary>LeCun normal: truncated normal with standard deviation <c>sqrt(1 / fanIn)</c>.</summary>
public sealed class LecunNormal : VarianceScaling
{
    /// <summary>Creates the initializer.</summary>
    public LecunNormal() : base(1.0, "fan_in", "truncated_normal") { }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>();
}
