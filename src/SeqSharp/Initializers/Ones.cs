namespace SeqSharp.Initializers;

/// <summary>All ones.</summary>
public sealed class Ones : Constant
{
    /// <summary>Creates the initializer.</summary>
    public Ones() : base(1.0) { }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>();
}
