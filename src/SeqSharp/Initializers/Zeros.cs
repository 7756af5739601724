namespace SeqSharp.Initializers;

/// <summary>All zeros; Keras's default bias initializer.</summary>
public sealed class Zeros : Constant
{
    /// <summary>Creates the initializer.</summary>
    public Zeros() : base(0.0) { }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>();
}
