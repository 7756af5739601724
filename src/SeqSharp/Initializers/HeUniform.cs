namespace SeqSharp.Initializers;

/// <summary>He uniform: limit <c>sqrt(6 / fanIn)</c>.</summary>
public sealed class HeUniform : VarianceScaling
{
    /// <summary>Creates the initializer.</summary>
    public HeUniform() : base(2.0, "fan_in", "uniform") { }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>();
}
