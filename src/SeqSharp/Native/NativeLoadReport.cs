namespace SeqSharp.Native;

/// <summary>What <see cref="TorchNative.EnsureLoaded"/> found and did.</summary>
/// <param name="Fix">Whether a fix was needed and applied.</param>
/// <param name="CppRuntime">Path of the process's <c>libstdc++.so.6</c>, when on Linux and found.</param>
/// <param name="PatchedFiles">Copies of <c>libLibTorchSharp.so</c> whose <c>GLIBCXX_3.4.32</c> need is weak.</param>
/// <param name="Detail">A sentence for logs and error reports.</param>
public sealed record NativeLoadReport(NativeFix Fix, string? CppRuntime, IReadOnlyList<string> PatchedFiles, string Detail);
