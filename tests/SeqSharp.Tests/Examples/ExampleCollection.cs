namespace SeqSharp.Tests.Examples;

/// <summary>
/// The examples' tests run alone, after the parallel tests, on one LibTorch thread as the
/// examples' Program.cs does: small recurrent models are fastest single-threaded, and on a busy
/// machine two threads' synchronisation can slow them down tenfold. Running alone keeps the
/// thread setting from touching other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ExampleCollection
{
    public const string Name = "Examples";

    /// <summary>Runs <paramref name="example"/> on one LibTorch thread and restores the previous count.</summary>
    public static T SingleThreaded<T>(Func<T> example)
    {
        int previous = get_num_threads();
        set_num_threads(1);
        try
        {
            return example();
        }
        finally
        {
            set_num_threads(previous);
        }
    }
}
