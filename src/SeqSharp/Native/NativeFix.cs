namespace SeqSharp.Native;

/// <summary>The outcome of preparing TorchSharp's native library.</summary>
public enum NativeFix
{
    /// <summary>Not Linux: nothing to check.</summary>
    NotLinux,

    /// <summary>The system C++ runtime is new enough: the library loads as shipped and nothing was changed.</summary>
    NotNeeded,

    /// <summary>The system C++ runtime is too old, and the glue library's need was made weak at start-up (the runtime fix).</summary>
    Applied,

    /// <summary>
    /// The system C++ runtime is too old, and the glue library's need was weak already when the process
    /// started: SeqSharp's build step made the edit in the output or publish folder (or an earlier run did).
    /// </summary>
    AlreadyApplied,

    /// <summary>The fix was needed but no copy of the glue library could be fixed; see the report's detail.</summary>
    Failed,
}
