using SeqSharp.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Training;

/// <summary>
/// A batch and the tensors that making it created, which the training loop owns and disposes after
/// the step. Tensors the source returned that existed before (a tensor held by the caller) are not
/// owned and stay alive.
/// </summary>
internal sealed class FetchedBatch(Batch batch, IReadOnlyList<Tensor> owned) : IDisposable
{
    public Batch Batch { get; } = batch;

    /// <summary>
    /// Makes one batch inside its own dispose scope, on whatever thread calls it: temporaries die
    /// with the scope, the batch's own new tensors are taken out of it and owned by the result.
    /// </summary>
    public static FetchedBatch? Make(Func<Batch?> make)
    {
        using var scope = torch.NewDisposeScope();
        var made = make();
        if (made is not Batch batch)
            return null;
        var owned = new List<Tensor>();
        foreach (var t in new[] { batch.X, batch.Y, batch.SampleWeight }.Concat(batch.Inputs ?? []).Concat(batch.Targets ?? []))
        {
            // By reference: Tensor.Equals compares values, and a target may equal its input (autoencoders).
            if (t is not null && scope.Contains(t) && !owned.Any(o => ReferenceEquals(o, t)))
                owned.Add(t);
        }
        scope.Detach(owned);
        return new FetchedBatch(batch, owned);
    }

    public void Dispose()
    {
        foreach (var t in owned)
            t.Dispose();
    }
}
