namespace SeqSharp.Tests.TestSupport;

/// <summary>
/// Finds the test fixtures: the copy in this project's <c>Fixtures</c> folder (copied next to the
/// test binaries), or the folder named by <c>SEQSHARP_FIXTURES</c>.
/// </summary>
/// <remarks>
/// The fixtures come from the team's shared folder (see Fixtures/README.md): a real Keras 3.8
/// model with outputs computed independently of this project, and a public time series.
/// </remarks>
internal static class SharedFixtures
{
    public static string PathOf(string relative)
    {
        var root = Environment.GetEnvironmentVariable("SEQSHARP_FIXTURES");
        if (string.IsNullOrEmpty(root))
            root = Path.Combine(AppContext.BaseDirectory, "Fixtures");
        var path = Path.Combine(root, relative);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Fixture '{relative}' is missing from {root}.", path);
    }
}
