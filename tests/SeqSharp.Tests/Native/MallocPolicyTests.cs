using SeqSharp.Native;

namespace SeqSharp.Tests.Native;

public class MallocPolicyTests
{
    [Fact]
    public void Initialize_OnGlibcLinux_SetsTheThresholdsUnlessTheUserChose()
    {
        Assert.True(OperatingSystem.IsLinux(), "This suite runs on Linux (glibc), where SeqSharp tunes the allocator.");
        bool userChose = Environment.GetEnvironmentVariable(MallocPolicy.OptOutVariable) == "0"
            || (Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "").Contains("glibc.malloc.", StringComparison.Ordinal)
            || Environment.GetEnvironmentVariables().Keys.Cast<string>().Any(k => k.StartsWith("MALLOC_", StringComparison.Ordinal));
        if (userChose)
        {
            Assert.False(MallocPolicy.Applied, MallocPolicy.Reason);
            return;
        }
        Assert.True(MallocPolicy.Applied, $"Expected the thresholds to be set on glibc; {MallocPolicy.Reason}.");
        Assert.Equal("set by SeqSharp", MallocPolicy.Reason);
    }
}
