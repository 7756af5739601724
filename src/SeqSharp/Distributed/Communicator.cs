namespace SeqSharp.Distributed;

/// <summary>
/// The collective operations data-parallel training needs, over a group of processes (ranks):
/// sums over every rank's buffer and a copy of one rank's buffer to all. Every rank must make the
/// same calls in the same order with the same sizes, or the group hangs.
/// </summary>
public abstract class Communicator : IDisposable
{
    /// <summary>This process's index in the group, from 0.</summary>
    public abstract int Rank { get; }

    /// <summary>The number of processes in the group.</summary>
    public abstract int Size { get; }

    /// <summary>The engine behind it, e.g. <c>"Open MPI (libmpi.so.40)"</c> or <c>"single process"</c>.</summary>
    public abstract string Engine { get; }

    /// <summary>Replaces every element of <paramref name="buffer"/> with its sum over all ranks.</summary>
    public abstract void AllreduceSum(Span<float> buffer);

    /// <summary>Replaces every element of <paramref name="buffer"/> with its sum over all ranks.</summary>
    public abstract void AllreduceSum(Span<double> buffer);

    /// <summary>
    /// Starts replacing every element of <paramref name="buffer"/> with its sum over all ranks, and returns at
    /// once when the engine can do it in the background (MPI_Iallreduce); <see cref="Wait"/> finishes it. Every
    /// rank must start its calls in the same order. The buffer must stay pinned and untouched until then. By
    /// default the sum is made now (a blocking call), which suits engines without non-blocking collectives.
    /// </summary>
    /// <returns>A handle for <see cref="Wait"/> and <see cref="Test"/>.</returns>
    public virtual unsafe nint StartAllreduceSum(float* buffer, int count)
    {
        AllreduceSum(new Span<float>(buffer, count));
        return 0;
    }

    /// <summary>Lets a started sum make progress; true when it has finished (then its handle is spent).</summary>
    public virtual bool Test(nint request) => true;

    /// <summary>Waits until a sum started by <see cref="StartAllreduceSum"/> has finished.</summary>
    public virtual void Wait(nint request) { }

    /// <summary>Replaces every element of <paramref name="buffer"/> with its maximum over all ranks.</summary>
    public abstract void AllreduceMax(Span<double> buffer);

    /// <summary>Copies <paramref name="root"/>'s bytes into every other rank's <paramref name="buffer"/>.</summary>
    public abstract void Broadcast(Span<byte> buffer, int root = 0);

    /// <summary>Waits until every rank has called it.</summary>
    public abstract void Barrier();

    /// <summary>Ends the whole group's run at once (MPI_Abort): for a rank that cannot go on.</summary>
    public abstract void Abort(int errorCode);

    /// <summary>Leaves the group (MPI_Finalize). Further calls are refused.</summary>
    public abstract void Dispose();
}

/// <summary>A group of one: every collective is the identity. Used when no launcher started this process.</summary>
public sealed class LocalCommunicator : Communicator
{
    /// <inheritdoc/>
    public override int Rank => 0;

    /// <inheritdoc/>
    public override int Size => 1;

    /// <inheritdoc/>
    public override string Engine => "single process";

    /// <inheritdoc/>
    public override void AllreduceSum(Span<float> buffer) { }

    /// <inheritdoc/>
    public override void AllreduceSum(Span<double> buffer) { }

    /// <inheritdoc/>
    public override void AllreduceMax(Span<double> buffer) { }

    /// <inheritdoc/>
    public override void Broadcast(Span<byte> buffer, int root = 0)
    {
        if (root != 0)
            throw new ArgumentOutOfRangeException(nameof(root), root, "Expected root 0 in a group of one process.");
    }

    /// <inheritdoc/>
    public override void Barrier() { }

    /// <inheritdoc/>
    public override void Abort(int errorCode) => Environment.Exit(errorCode);

    /// <inheritdoc/>
    public override void Dispose() { }
}
