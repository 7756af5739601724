using System.Runtime.InteropServices;

namespace SeqSharp.Native;

/// <summary>
/// Keeps glibc's allocator from handing the memory of large tensors back to the kernel after every
/// training step or prediction, only to fault it in again, zeroed, page by page in the next one.
/// </summary>
/// <remarks>
/// <para>LibTorch allocates tensor memory with the C library's <c>malloc</c>. glibc serves blocks
/// above a threshold with fresh <c>mmap</c> mappings and returns free memory at the top of its heap
/// to the kernel once it exceeds a trim threshold; both start low (128 KiB) and only the first adapts
/// to the program. A recurrent layer's buffers (the gates of every step, a few MiB each) are freed
/// and allocated again at every step, so, once the working set crosses the trim threshold (two
/// layers, a <c>Bidirectional</c> wrapper), every step pays one page fault per 4 KiB it touches.
/// On the project's 2-core virtual machine, shape (64, 100, 16) → 64, a training step of
/// <c>Bidirectional(LSTM)</c> used 4.8 times the CPU time of one LSTM direction without the
/// thresholds below and 2.0 times with them (docs/performance.md has the figures).</para>
/// <para>So, at start-up, SeqSharp sets glibc's <c>M_MMAP_THRESHOLD</c> to 32 MiB (its maximum) and
/// <c>M_TRIM_THRESHOLD</c> to 1 GiB with <c>mallopt</c>: the memory of a step stays with the process
/// and is reused by the next step. The resident size then stays near its peak instead of falling
/// between steps; the peak itself does not grow. A user's own choice wins: nothing is changed when
/// <c>GLIBC_TUNABLES</c> sets a <c>glibc.malloc</c> tunable or any <c>MALLOC_…</c> variable is
/// set, or when <c>SEQSHARP_MALLOC_TUNING=0</c>. Other C libraries are left alone.</para>
/// </remarks>
internal static partial class MallocPolicy
{
    /// <summary>The variable that turns the tuning off (value <c>0</c>).</summary>
    public const string OptOutVariable = "SEQSHARP_MALLOC_TUNING";

    /// <summary>The threshold above which a block gets its own mapping: glibc's maximum on 64-bit.</summary>
    public const int MmapThreshold = 32 << 20;

    /// <summary>Free memory at the top of the heap kept before any is returned to the kernel.</summary>
    public const int TrimThreshold = 1 << 30;

    private const int MallocTrimThreshold = -1, MallocMmapThreshold = -3;

    /// <summary>Whether SeqSharp set the thresholds in this process.</summary>
    public static bool Applied { get; private set; }

    /// <summary>Why the thresholds were or were not set.</summary>
    public static string Reason { get; private set; } = "not applied yet";

    public static void Apply()
    {
        if (!OperatingSystem.IsLinux())
        {
            Reason = "not Linux";
            return;
        }
        if (Environment.GetEnvironmentVariable(OptOutVariable) == "0")
        {
            Reason = $"{OptOutVariable}=0";
            return;
        }
        string? tunables = Environment.GetEnvironmentVariable("GLIBC_TUNABLES");
        string? userSetting = tunables is not null && tunables.Contains("glibc.malloc.", StringComparison.Ordinal)
            ? "GLIBC_TUNABLES"
            : Environment.GetEnvironmentVariables().Keys.Cast<string>().FirstOrDefault(k => k.StartsWith("MALLOC_", StringComparison.Ordinal));
        if (userSetting is not null)
        {
            Reason = $"left to the user's {userSetting}";
            return;
        }
        try
        {
            // glibc only: other C libraries (musl) have no such thresholds.
            if (Marshal.PtrToStringUTF8(GnuLibcVersion()) is null)
            {
                Reason = "not glibc";
                return;
            }
            Applied = MallocOptions(MallocMmapThreshold, MmapThreshold) == 1 & MallocOptions(MallocTrimThreshold, TrimThreshold) == 1;
            Reason = Applied ? "set by SeqSharp" : "mallopt refused the thresholds";
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            Reason = "not glibc";
        }
    }

    [LibraryImport("libc", EntryPoint = "gnu_get_libc_version")]
    private static partial IntPtr GnuLibcVersion();

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallocOptions(int parameter, int value);
}
