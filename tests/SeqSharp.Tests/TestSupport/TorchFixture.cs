using System.Runtime.CompilerServices;
using SeqSharp.Native;

namespace SeqSharp.Tests.TestSupport;

internal static class TorchFixture
{
    /// <summary>Tests may touch TorchSharp before any SeqSharp type: prepare the native library first.</summary>
    [ModuleInitializer]
    internal static void Initialize() => TorchNative.EnsureLoaded();
}
