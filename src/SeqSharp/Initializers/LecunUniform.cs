namespace SeqSharp.Initializers;

/// <summary>LeCun uniform: limit <c>sqrt(3 / fanIn)</c>.</summary>
public sealed class LecunUniform : VarianceScaling
{
    /// <summary>Creates the initializer.</summary>
    public LecunUniform() : base(1.0, "fan_in", "uniform") { }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>();
}
