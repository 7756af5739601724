using System.Runtime.InteropServices;
using SeqSharp.Native;

namespace SeqSharp.Tests.Native;

public partial class OpenMpPolicyTests
{
    [Fact]
    public void Initialize_OnLinux_LeavesPassiveWaitPolicyInTheCEnvironment()
    {
        Assert.True(OperatingSystem.IsLinux(), "This suite runs on Linux, where SeqSharp sets the OpenMP wait policy.");
        // What libgomp reads is the C environment, not .NET's copy of it.
        string? native = Marshal.PtrToStringUTF8(GetEnvironment(OpenMpPolicy.Variable));
        Assert.NotNull(native);
        Assert.Equal(native, OpenMpPolicy.WaitPolicy);
        // A policy set by whoever started the process is left alone; otherwise it is SeqSharp's.
        if (OpenMpPolicy.SetBySeqSharp)
            Assert.Equal("PASSIVE", native);
    }

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetEnvironment(string name);
}
