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
    /// <summary>A batch of inputs and targets.</summary>
    public static implicit operator Batch((Tensor X, Tensor? Y) batch) => new(batch.X, batch.Y);

    /// <summary>A batch of inputs, targets and sample weights.</summary>
    public static implicit operator Batch((Tensor X, Tensor? Y, Tensor? SampleWeight) batch) => new(batch.X, batch.Y, batch.SampleWeight);

    /// <summary>A batch of inputs only (for <c>Predict</c>).</summary>
    public static implicit operator Batch(Tensor x) => new(x);
}
