using System.Runtime.CompilerServices;
using SeqSharp.Native;

namespace SeqSharp.Tests.TestSupport;

internal static class TorchFixture
{
    /// <summary>
    /// Tests may touch TorchSharp before any SeqSharp type: prepare the native library first.
    /// <c>SEQSHARP_TEST_SEED=n</c> seeds the global generator differently, so unseeded tests see other
    /// draws (a check that no test passes only by the luck of one draw); unset, LibTorch's default seed is used.
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize()
    {
        TorchNative.EnsureLoaded();
        if (long.TryParse(Environment.GetEnvironmentVariable("SEQSHARP_TEST_SEED"), out long seed))
            torch.manual_seed(seed);
    }
}
