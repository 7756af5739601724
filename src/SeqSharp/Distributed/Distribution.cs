namespace SeqSharp.Distributed;

/// <summary>
/// The process-wide distribution that <c>Fit</c> and <c>Evaluate</c> follow (Keras 3's
/// <c>keras.distribution.set_distribution</c> / <c>distribution()</c>).
/// </summary>
/// <example>
/// <code>
/// Distribution.Set(new DataParallel());   // a world of one without mpirun; N ranks under mpirun -np N
/// model.Fit(x, y, batchSize: 64, epochs: 5);   // batchSize is the global batch
/// </code>
/// </example>
public static class Distribution
{
    private static DataParallel? _current;
    private static readonly AsyncLocal<DataParallel?> Scoped = new();

    /// <summary>The distribution set by <see cref="Set"/>, or null (each process trains alone).</summary>
    public static DataParallel? Current => Scoped.Value ?? Volatile.Read(ref _current);

    /// <summary>Makes <paramref name="distribution"/> current for this async flow only, until disposed (tests run in parallel).</summary>
    internal static IDisposable Use(DataParallel distribution)
    {
        var previous = Scoped.Value;
        Scoped.Value = distribution;
        return new Restore(previous);
    }

    private sealed class Restore(DataParallel? previous) : IDisposable
    {
        public void Dispose() => Scoped.Value = previous;
    }

    /// <summary>Makes <paramref name="distribution"/> the one that training follows; null goes back to single-process training.</summary>
    public static void Set(DataParallel? distribution) => Volatile.Write(ref _current, distribution);
}
