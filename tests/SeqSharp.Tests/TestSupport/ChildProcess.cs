using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace SeqSharp.Tests.TestSupport;

/// <summary>
/// Runs a static method of this test assembly in a fresh process (<c>dotnet SeqSharp.Tests.dll --child
/// Type.Method args...</c>), for what one test process cannot measure or survive: peak memory (a
/// process's peak resident size only grows), aborts, native crashes. The method takes a
/// <c>string[]</c>; what it prints is returned with the exit code.
/// </summary>
internal static class ChildProcess
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>The result of a child process.</summary>
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        /// <summary>The value of the line <c>KEY value</c> the child printed.</summary>
        public string Value(string key) =>
            Output.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith(key + " ", StringComparison.Ordinal))?[(key.Length + 1)..]
            ?? throw new Xunit.Sdk.XunitException($"The child printed no '{key}' line. Exit code {ExitCode}. Output:\n{Output}\nError:\n{Error}");
    }

    /// <summary>Runs <paramref name="method"/> (e.g. <c>nameof(MyTests) + "." + nameof(MyTests.Child)</c>, a static method taking <c>string[]</c>) in a child process.</summary>
    public static Result Run(Type type, string method, params string[] args)
    {
        string assembly = typeof(ChildProcess).Assembly.Location;
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { assembly, "--child", type.FullName!, method }.Concat(args))
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The child process {type.Name}.{method} did not finish in {Timeout.TotalMinutes} minutes.");
        }
        return new Result(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Peak resident memory of this process so far, bytes (VmHWM of /proc/self/status; Linux only).</summary>
    public static long PeakResidentBytes() => StatusKilobytes("VmHWM:") * 1024;

    /// <summary>Resident memory of this process now, bytes (VmRSS; Linux only).</summary>
    public static long ResidentBytes() => StatusKilobytes("VmRSS:") * 1024;

    private static long StatusKilobytes(string key)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(key, StringComparison.Ordinal));
        return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>The child's side: finds and runs the method named on the command line.</summary>
    internal static int RunChild(string[] args)
    {
        var type = typeof(ChildProcess).Assembly.GetType(args[1], throwOnError: true)!;
        var method = type.GetMethod(args[2], BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new MissingMethodException(args[1], args[2]);
        method.Invoke(null, [args[3..]]);
        return 0;
    }
}

/// <summary>The test assembly's entry point: runs a child task (see <see cref="ChildProcess"/>); the test host never calls it.</summary>
internal static class Program
{
    public static int Main(string[] args) => args.Length >= 3 && args[0] == "--child" ? ChildProcess.RunChild(args) : 0;
}
