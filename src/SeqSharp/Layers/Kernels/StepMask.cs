using static TorchSharp.torch;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// Keras's padding mask as the fused kernels read it: which batch rows each step updates, in
/// processing order. A masked row keeps its states (and its output repeats them); its gate
/// gradients are zero and the gradient of its states passes straight through.
/// </summary>
/// <remarks>
/// Each batch slice asks, per step, for the range of its rows that the step updates: the recurrent
/// product and the gate pass run on that range only, so steps where a whole slice is padded cost a
/// copy of the states and nothing else.
/// </remarks>
internal sealed class StepMask
{
    private readonly byte[] _keep;

    private StepMask(byte[] keep, int steps, int batch)
    {
        _keep = keep;
        Steps = steps;
        Batch = batch;
    }

    /// <summary>The number of steps.</summary>
    public int Steps { get; }

    /// <summary>The batch size.</summary>
    public int Batch { get; }

    /// <summary>Reads a <c>(batch, timesteps)</c> boolean mask, already in processing order; null stays null.</summary>
    public static StepMask? From(Tensor? mask)
    {
        if (mask is null)
            return null;
        using var scope = NewDisposeScope();
        int batch = (int)mask.shape[0], steps = (int)mask.shape[1];
        var keep = mask.to_type(ScalarType.Bool).t().to_type(ScalarType.Byte).contiguous().data<byte>().ToArray();
        return new StepMask(keep, steps, batch);
    }

    /// <summary>Whether step <paramref name="t"/> updates batch row <paramref name="row"/>.</summary>
    public bool Keeps(long t, int row) => _keep[t * Batch + row] != 0;

    /// <summary>
    /// The rows of the slice [<paramref name="first"/>, <paramref name="first"/> + <paramref name="rows"/>)
    /// that step <paramref name="t"/> updates, as offsets into the slice: [Start, End), empty when none.
    /// </summary>
    public (int Start, int End) Range(long t, int first, int rows)
    {
        long offset = t * Batch + first;
        int start = 0, end = rows;
        while (start < rows && _keep[offset + start] == 0)
            start++;
        while (end > start && _keep[offset + end - 1] == 0)
            end--;
        return (start, end);
    }

    /// <summary>
    /// Finds the next run of updated rows of step <paramref name="t"/> at or after slice offset
    /// <paramref name="r"/> and before <paramref name="end"/>, in the slice starting at
    /// <paramref name="first"/>: moves <paramref name="r"/> to its start and gives its length; false when none is left.
    /// </summary>
    public bool NextRun(long t, int first, ref int r, int end, out int count)
    {
        long offset = t * Batch + first;
        while (r < end && _keep[offset + r] == 0)
            r++;
        int runEnd = r;
        while (runEnd < end && _keep[offset + runEnd] != 0)
            runEnd++;
        count = runEnd - r;
        return count > 0;
    }
}
