using static TorchSharp.torch;

namespace SeqSharp.Data;

/// <summary>
/// One batch from a data source: inputs, targets (null for prediction-only data) and optional
/// per-sample loss weights, all with the batch axis first. A tuple converts to it, so a
/// <see cref="BatchDataset.GetBatch"/> may <c>return (x, y);</c> or <c>return (x, y, weights);</c>.
/// </summary>
/// <param name="X">Inputs <c>(batch, ...)</c>, e.g. <c>(batch, timesteps, features)</c>.</param>
/// <param name="Y">Targets <c>(batch, ...)</c>, or null.</param>
/// <param name="SampleWeight">Per-sample loss weights <c>(batch)</c>, or null.</param>
public readonly record struct Batch(Tensor X, Tensor? Y = null, Tensor? SampleWeight = null)
{
    /// <summary>
    /// A batch for a model with several inputs or several outputs (Keras's <c>((x1, x2), (y1, y2))</c>
    /// batches): one tensor per input and one target tensor per output, in the model's order, all with
    /// the same samples. <see cref="X"/> and <see cref="Y"/> are then the first of each.
    /// </summary>
    /// <param name="x">One tensor per input, not empty.</param>
    /// <param name="y">One target tensor per output, or null for prediction-only data.</param>
    /// <param name="sampleWeight">Per-sample loss weights <c>(batch)</c>, or null.</param>
    /// <exception cref="ArgumentException">An empty list or a null tensor in it.</exception>
    public Batch(IReadOnlyList<Tensor> x, IReadOnlyList<Tensor>? y = null, Tensor? sampleWeight = null)
        : this(First(x, nameof(x)), y is null ? null : First(y, nameof(y)), sampleWeight)
    {
        Inputs = x;
        Targets = y;
    }

    /// <summary>One tensor per input when the batch was made with a list of inputs; otherwise null (the input is <see cref="X"/>).</summary>
    public IReadOnlyList<Tensor>? Inputs { get; }

    /// <summary>One target tensor per output when the batch was made with a list of targets; otherwise null (the target is <see cref="Y"/>).</summary>
    public IReadOnlyList<Tensor>? Targets { get; }

    private static Tensor First(IReadOnlyList<Tensor> parts, string name)
    {
        ArgumentNullException.ThrowIfNull(parts, name);
        if (parts.Count == 0)
            throw new ArgumentException("Expected one tensor per input (or output). Received an empty list.", name);
        for (int k = 0; k < parts.Count; k++)
        {
            if (parts[k] is null)
                throw new ArgumentException($"Expected one tensor per input (or output). Received null at position {k}.", name);
        }
        return parts[0];
    }

    /// <summary>A batch of inputs and targets.</summary>
    public static implicit operator Batch((Tensor X, Tensor? Y) batch) => new(batch.X, batch.Y);

    /// <summary>A batch of inputs, targets and sample weights.</summary>
    public static implicit operator Batch((Tensor X, Tensor? Y, Tensor? SampleWeight) batch) => new(batch.X, batch.Y, batch.SampleWeight);

    /// <summary>A batch of inputs only (for <c>Predict</c>).</summary>
    public static implicit operator Batch(Tensor x) => new(x);
}
