using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace SeqSharp.Tests.TestSupport;

/// <summary>
/// Marks a static method (no parameters) that <see cref="ChildProcess.Run"/> can run in a fresh
/// process: for code that may end its process (a native abort) or that needs a process of its own
/// (peak memory, environment read once at start).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class ChildScenarioAttribute : Attribute;

/// <summary>What a child process did: its exit code and everything it wrote.</summary>
internal sealed record ChildResult(int ExitCode, string Output, string Error)
{
    /// <summary>Exit code of a process ended by SIGABRT (128 + 6): a native abort or an unhandled managed exception.</summary>
    public const int Aborted = 134;

    /// <summary>The exit code and both streams, for assertion messages.</summary>
    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{Output}\n--- stderr ---\n{Error}";
}

/// <summary>
/// Runs a <see cref="ChildScenarioAttribute"/> method of this test assembly in a child process:
/// <c>dotnet SeqSharp.Tests.dll --child Class.Method</c> (the assembly's entry point is
/// <see cref="ChildProgram"/>).
/// </summary>
internal static class ChildProcess
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    public static ChildResult Run(string scenario, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        string dotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        start.ArgumentList.Add("--child");
        start.ArgumentList.Add(scenario);
        // No crash dumps for the aborts some scenarios provoke on purpose (before a fix).
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
                start.Environment[key] = value;
        }

        var output = new StringBuilder();
        var error = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var limit = timeout ?? DefaultTimeout;
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            lock (output)
                Assert.Fail($"Child scenario {scenario} did not finish within {limit.TotalSeconds} s; killed. Output so far:\n{output}\n{error}");
        }
        process.WaitForExit();   // drains the asynchronous readers
        lock (output)
            lock (error)
                return new ChildResult(process.ExitCode, output.ToString(), error.ToString());
    }
}

/// <summary>The test assembly's entry point when it runs as a child process (the test host does not use it).</summary>
internal static class ChildProgram
{
    public static int Main(string[] args)
    {
        if (args.Length != 2 || args[0] != "--child")
        {
            Console.Error.WriteLine("Usage: dotnet SeqSharp.Tests.dll --child Class.Method (a [ChildScenario] method).");
            return 2;
        }
        var method = typeof(ChildProgram).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .SingleOrDefault(m => m.GetCustomAttribute<ChildScenarioAttribute>() is not null && $"{m.DeclaringType!.Name}.{m.Name}" == args[1]);
        if (method is null)
        {
            Console.Error.WriteLine($"No [ChildScenario] method named {args[1]}.");
            return 2;
        }
        try
        {
            method.Invoke(null, null);
        }
        catch (TargetInvocationException e)
        {
            // Reported apart from an abort (exit code 134): the scenario let an exception escape.
            Console.WriteLine($"UNCAUGHT {e.InnerException!.GetType().FullName}: {e.InnerException.Message}");
            return 3;
        }
        return 0;
    }
}
