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

    /// <summary>Runs <paramref name="example"/> with fresh automatic layer names on one LibTorch thread and restores the previous count.</summary>
    public static T SingleThreaded<T>(Func<T> example)
    {
        // The examples print Keras's automatic layer names, which count the layers made earlier in
        // the process (by other test classes too): start the count afresh, as a new process would.
        Utils.ClearSession();
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
