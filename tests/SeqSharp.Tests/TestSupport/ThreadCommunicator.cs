using SeqSharp.Distributed;

namespace SeqSharp.Tests.TestSupport;

/// <summary>
/// An in-process group of ranks, one thread each, for testing data-parallel training without MPI:
/// every collective meets at a barrier and sums in rank order, so every rank gets the same bits.
/// </summary>
internal sealed class ThreadCommunicator : Communicator
{
    private readonly World _world;

    private ThreadCommunicator(World world, int rank)
    {
        _world = world;
        Rank = rank;
    }

    /// <summary>One communicator per rank of a new group of <paramref name="size"/>.</summary>
    public static ThreadCommunicator[] Group(int size)
    {
        var world = new World(size);
        return Enumerable.Range(0, size).Select(r => new ThreadCommunicator(world, r)).ToArray();
    }

    public override int Rank { get; }

    public override int Size => _world.Size;

    public override string Engine => "threads (test)";

    public override void AllreduceSum(Span<float> buffer)
    {
        var sum = Exchange(buffer.ToArray().Select(v => (double)v).ToArray(), (a, b) => (float)a + (float)b);
        for (int i = 0; i < buffer.Length; i++)
            buffer[i] = (float)sum[i];
    }

    public override void AllreduceSum(Span<double> buffer) => Exchange(buffer.ToArray(), (a, b) => a + b).CopyTo(buffer);

    public override void AllreduceMax(Span<double> buffer) => Exchange(buffer.ToArray(), Math.Max).CopyTo(buffer);

    public override void Broadcast(Span<byte> buffer, int root = 0)
    {
        if (Rank == root)
            _world.Shared = buffer.ToArray();
        _world.Barrier.SignalAndWait(TimeSpan.FromSeconds(60));
        var data = (byte[])_world.Shared!;
        if (data.Length != buffer.Length)
            throw new InvalidOperationException($"Broadcast of {data.Length} bytes into {buffer.Length} on rank {Rank}.");
        data.CopyTo(buffer);
        _world.Barrier.SignalAndWait(TimeSpan.FromSeconds(60));
    }

    public override void Barrier() => _world.Barrier.SignalAndWait(TimeSpan.FromSeconds(60));

    public override void Abort(int errorCode) => throw new InvalidOperationException($"Rank {Rank} aborted the group ({errorCode}).");

    public override void Dispose() { }

    /// <summary>Everyone's values, combined in rank order (float sums round after each addition, as float32 would).</summary>
    private double[] Exchange(double[] mine, Func<double, double, double> combine)
    {
        _world.Slots[Rank] = mine;
        if (!_world.Barrier.SignalAndWait(TimeSpan.FromSeconds(60)))
            throw new TimeoutException("A rank did not reach the collective.");
        var result = (double[])_world.Slots[0]!.Clone();
        for (int r = 1; r < Size; r++)
        {
            var other = _world.Slots[r]!;
            if (other.Length != result.Length)
                throw new InvalidOperationException($"Ranks reduce different sizes ({result.Length} and {other.Length}).");
            for (int i = 0; i < result.Length; i++)
                result[i] = combine(result[i], other[i]);
        }
        _world.Barrier.SignalAndWait(TimeSpan.FromSeconds(60));
        return result;
    }

    private sealed class World(int size)
    {
        public int Size { get; } = size;
        public Barrier Barrier { get; } = new(size);
        public double[]?[] Slots { get; } = new double[]?[size];
        public object? Shared { get; set; }
    }
}
