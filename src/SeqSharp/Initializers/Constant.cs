using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Initializers;

/// <summary>Every element set to one value (Keras <c>Constant</c>; <see cref="Zeros"/> and <see cref="Ones"/> are its special cases).</summary>
public class Constant : Initializer
{
    /// <summary>Creates the initializer.</summary>
    public Constant(double value = 0.0) => Value = value;

    /// <summary>The fill value.</summary>
    public double Value { get; }

    /// <inheritdoc />
    public override Tensor Create(long[] shape, ScalarType dtype) => torch.full(shape, Value, dtype);

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?> { ["value"] = Value };
}
