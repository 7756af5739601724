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

    /// <summary>
    /// An order of the batch rows that lets padded steps cost nothing: rows sorted by their number of
    /// updated steps, longest first, and dealt out so that each of the <paramref name="slices"/>
    /// contiguous batch slices gets an even share of long and short rows. With padding at the end
    /// (or at the start) the rows a step updates are then a prefix of every slice, and a slice's
    /// products shrink as its rows run out. Null when every row has the same number of updated
    /// steps or the rows are already in that order.
    /// </summary>
    public int[]? BalancedOrder(int slices)
    {
        var counts = new int[Batch];
        for (int t = 0; t < Steps; t++)
        {
            for (int b = 0; b < Batch; b++)
                counts[b] += _keep[t * Batch + b];
        }
        if (counts.All(c => c == counts[0]))
            return null;
        var sorted = Enumerable.Range(0, Batch).OrderByDescending(b => counts[b]).ToArray();
        // Deal the sorted rows round-robin to slices of the sizes BatchParallel.For makes.
        var members = Enumerable.Range(0, slices).Select(_ => new List<int>()).ToArray();
        var capacity = Enumerable.Range(0, slices).Select(s => (int)((long)Batch * (s + 1) / slices - (long)Batch * s / slices)).ToArray();
        int next = 0;
        foreach (int row in sorted)
        {
            while (members[next].Count == capacity[next])
                next = (next + 1) % slices;
            members[next].Add(row);
            next = (next + 1) % slices;
        }
        var order = members.SelectMany(m => m).ToArray();
        bool identity = true;
        for (int k = 0; k < Batch; k++)
            identity &= order[k] == k;
        return identity ? null : order;
    }

    /// <summary>The mask with its batch rows taken in <paramref name="order"/>.</summary>
    public StepMask Reordered(int[] order)
    {
        var keep = new byte[_keep.Length];
        for (int t = 0; t < Steps; t++)
        {
            for (int b = 0; b < Batch; b++)
                keep[t * Batch + b] = _keep[t * Batch + order[b]];
        }
        return new StepMask(keep, Steps, Batch);
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
