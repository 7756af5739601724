namespace SeqSharp.Benchmarks;

/// <summary>Resident memory of this process from /proc/self/status (Linux).</summary>
internal static class ProcessMemory
{
    /// <summary>Current resident set size, bytes.</summary>
    public static long Resident() => Read("VmRSS:");

    /// <summary>Peak resident set size since the process started, bytes.</summary>
    public static long Peak() => Read("VmHWM:");

    private static long Read(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0]) * 1024;
        }
        return 0;
    }
}
