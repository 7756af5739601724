using System.Diagnostics;
using System.Text;
using SeqSharp.Native;
using Xunit.Abstractions;

namespace SeqSharp.Tests;

/// <summary>
/// The proof that a user's own project works with no manual step: a fresh console project outside
/// the repository references the library, is built and run with plain <c>dotnet run</c>.
/// </summary>
public class ExternalProjectTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    private const string ProjectFile = """
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <ImplicitUsings>enable</ImplicitUsings>
            <Nullable>enable</Nullable>
          </PropertyGroup>
          <ItemGroup>
            <ProjectReference Include="{0}" />
          </ItemGroup>
        </Project>
        """;

    private const string Program = """
        using SeqSharp;
        using SeqSharp.Layers;
        using SeqSharp.Native;
        using static TorchSharp.torch;

        var model = new Sequential();
        model.Add(new LSTM(8, inputShape: [5, 3]));
        var y = model.Predict(randn(2, 5, 3));
        Console.WriteLine($"Output shape: [{string.Join(", ", y.shape)}]");
        Console.WriteLine($"Native fix: {TorchNative.EnsureLoaded().Fix}");
        """;

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Sequential.sln")))
                return folder.FullName;
        }
        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds Sequential.sln.");
    }

    [Fact]
    public void DotnetRun_ConsoleProjectOutsideTheRepository_BuildsAndPredicts()
    {
        string repository = RepositoryRoot();
        string library = Path.Combine(repository, "src", "SeqSharp", "SeqSharp.csproj");
        Assert.True(File.Exists(library), $"{library} is missing.");

        string folder = Path.Combine(Path.GetTempPath(), $"seqsharp-user-{Guid.NewGuid():N}");
        Assert.False(folder.StartsWith(repository + Path.DirectorySeparatorChar, StringComparison.Ordinal), "The temp folder lies inside the repository.");
        // Nothing above the project may inject MSBuild settings: it must build as a stranger's project would.
        for (var parent = new DirectoryInfo(Path.GetTempPath()); parent is not null; parent = parent.Parent)
        {
            foreach (string name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
                Assert.False(File.Exists(Path.Combine(parent.FullName, name)), $"{Path.Combine(parent.FullName, name)} would apply to the external project.");
        }

        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, "UserApp.csproj"), string.Format(ProjectFile, library));
            File.WriteAllText(Path.Combine(folder, "Program.cs"), Program);

            var (exitCode, log) = Run(folder, "run");
            output.WriteLine(log);
            Assert.True(exitCode == 0, $"dotnet run exited with {exitCode}:\n{log}");
            Assert.Contains("Output shape: [2, 8]", log);
            // The user's process needed the same native fix as this one, and got it by itself. A project
            // outside the repository gets no build step through a ProjectReference (a package reference
            // brings it): where this process found the build step's edit, the user's made it at start-up.
            var expected = TorchNative.EnsureLoaded().Fix is NativeFix.AlreadyApplied ? NativeFix.Applied : TorchNative.EnsureLoaded().Fix;
            Assert.Contains($"Native fix: {expected}", log);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Runs the .NET CLI in <paramref name="folder"/> with a user's environment; returns the exit code and the combined output.</summary>
    private static (int ExitCode, string Log) Run(string folder, string arguments)
    {
        string dotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        var start = new ProcessStartInfo(dotnet, arguments)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The test host inherits MSBuild settings from the CLI that started it; a user's shell has none.
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(key);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        // Leave no build servers or reusable MSBuild nodes running after the test.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";

        var log = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            lock (log)
                Assert.Fail($"dotnet {arguments} did not finish within {Timeout.TotalMinutes} minutes; killed. Output so far:\n{log}");
        }
        process.WaitForExit();   // drains the asynchronous output readers
        lock (log)
            return (process.ExitCode, log.ToString());
    }
}
