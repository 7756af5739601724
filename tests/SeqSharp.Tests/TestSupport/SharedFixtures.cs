namespace SeqSharp.Tests.TestSupport;

/// <summary>
/// Finds the project's shared test fixtures: the folder <c>shared/fixtures</c> beside the repository
/// (where developers and CI have it), or the folder named by <c>SEQSHARP_FIXTURES</c>.
/// </summary>
internal static class SharedFixtures
{
    public static string PathOf(string relative)
    {
        var root = Environment.GetEnvironmentVariable("SEQSHARP_FIXTURES");
        if (string.IsNullOrEmpty(root))
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "fixtures");
                if (Directory.Exists(candidate))
                {
                    root = candidate;
                    break;
                }
            }
        }
        if (string.IsNullOrEmpty(root))
            throw new DirectoryNotFoundException(
                $"No shared/fixtures folder above {AppContext.BaseDirectory}; set SEQSHARP_FIXTURES to the fixtures folder.");
        var path = Path.Combine(root, relative);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Fixture '{relative}' is missing from {root}.", path);
    }
}
