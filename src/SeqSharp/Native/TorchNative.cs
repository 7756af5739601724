using Microsoft.Extensions.Logging;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace SeqSharp.Native;

/// <summary>
/// Makes TorchSharp's native glue library load on Linux distributions whose C++ runtime is older
/// than the one it was built against (Debian 12 and other GCC 12 systems).
/// </summary>
/// <remarks>
/// <para>
/// <c>libLibTorchSharp.so</c> from TorchSharp 0.107.0 declares that it needs the symbol version
/// <c>GLIBCXX_3.4.32</c> of <c>libstdc++.so.6</c>, which GCC 12's runtime does not define, so the
/// dynamic loader refuses it. The only symbol bound to that version is
/// <c>std::ios_base_library_init()</c>, which GCC 13's <c>&lt;iostream&gt;</c> references only to
/// pull iostream initialisation in at link time; nothing calls it.
/// </para>
/// <para>
/// When, and only when, the process's <c>libstdc++.so.6</c> lacks that version, this class marks
/// the need as weak (<c>VER_FLG_WEAK</c>) in the copy of <c>libLibTorchSharp.so</c> that the
/// program will load, before TorchSharp loads it. The loader then accepts the library. The edit is
/// two bytes, idempotent, and refused if any other symbol is bound to the missing version. Where
/// the file cannot be written, a patched copy in the temporary folder is used instead.
/// </para>
/// <para>
/// At the same time SeqSharp sets <c>OMP_WAIT_POLICY=PASSIVE</c> unless it is already set, so that
/// LibTorch's idle OpenMP workers sleep rather than spin on the cores the recurrent kernels use
/// (docs/performance.md has the figures), and keeps glibc's allocator from returning the memory
/// of large tensors to the kernel after every step (<c>mallopt</c>; see docs/performance.md), again
/// unless the user has chosen otherwise.
/// </para>
/// <para>
/// The package's build step makes the same edit, with the same checks, in the copies a build or
/// publish writes to its output folder (buildTransitive/SeqSharp.targets), so that a program that
/// calls TorchSharp before touching any SeqSharp type loads too. At start-up this class then finds
/// the need weak already and reports <see cref="NativeFix.AlreadyApplied"/>. It stays as the
/// fallback where the build step could not act (a read-only output folder, a project outside the
/// package's reach); call <see cref="EnsureLoaded"/> first in such a program.
/// </para>
/// </remarks>
public static class TorchNative
{
    /// <summary>The C++ runtime library whose version definitions are checked.</summary>
    public const string CppRuntime = GlueLibraryPatch.CppRuntime;

    /// <summary>The version that TorchSharp 0.107.0's glue library needs and GCC 12 lacks.</summary>
    public const string MissingVersion = GlueLibraryPatch.MissingVersion;

    /// <summary>The only symbol that library binds to <see cref="MissingVersion"/>.</summary>
    public const string UnusedSymbol = GlueLibraryPatch.UnusedSymbol;

    private const string GlueLibrary = GlueLibraryPatch.FileName;

    private static readonly Lazy<NativeLoadReport> Report = new(Prepare, LazyThreadSafetyMode.ExecutionAndPublication);

#pragma warning disable CA2255 // A library module initializer is the point: it runs before any SeqSharp code touches TorchSharp.
    [ModuleInitializer]
    internal static void Initialize()
    {
        OpenMpPolicy.Apply();
        MallocPolicy.Apply();
        Log(SeqSharpLogging.LoggerFactory.CreateLogger(SeqSharpLogging.NativeCategory));
    }
#pragma warning restore CA2255

    /// <summary>
    /// Prepares TorchSharp's native library for loading on this machine (once per process) and
    /// returns what was found and done.
    /// </summary>
    public static NativeLoadReport EnsureLoaded() => Report.Value;

    /// <summary>Logs the report: a warning when the fix failed, information when the start-up fix had to act, else debug.</summary>
    internal static void Log(ILogger logger)
    {
        var report = EnsureLoaded();
        if (report.Fix == NativeFix.Failed)
            Training.ModelLog.NativeFixFailed(logger, report.Detail);
        else if (report.Fix == NativeFix.Applied)
            Training.ModelLog.NativeFixedAtStartup(logger, report.Fix, report.Detail);
        else
            Training.ModelLog.NativeReport(logger, report.Fix, report.Detail);
    }

    private static NativeLoadReport Prepare()
    {
        if (!OperatingSystem.IsLinux())
            return new NativeLoadReport(NativeFix.NotLinux, null, [], "Not Linux: TorchSharp's native libraries load as shipped.");

        string? runtime = FindCppRuntime();
        if (runtime is null)
            return new NativeLoadReport(NativeFix.NotNeeded, null, [], $"{CppRuntime} was not found in this process; nothing to check.");

        if (GlueLibraryPatch.DefinesMissingVersion(runtime))
            return new NativeLoadReport(NativeFix.NotNeeded, runtime, [], $"{runtime} defines {MissingVersion}; TorchSharp loads as shipped.");

        var patched = new List<string>();
        var notes = new List<string>();
        bool changedNow = false;
        foreach (string candidate in GlueLibraryCandidates())
        {
            try
            {
                var (file, outcome) = PatchOrRedirect(candidate);
                if (file is not null)
                    patched.Add(file);
                changedNow |= outcome == GlueLibraryPatch.Outcome.MarkedWeak;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                notes.Add($"{candidate}: {e.Message}");
            }
        }
        var fix = patched.Count == 0 ? NativeFix.Failed : changedNow ? NativeFix.Applied : NativeFix.AlreadyApplied;
        string how = fix == NativeFix.AlreadyApplied
            ? "the need was weak already (SeqSharp's build step, or an earlier run, made the edit)"
            : "the need is now weak";
        string detail = $"{runtime} lacks {MissingVersion}; {how} in: {string.Join(", ", patched)}."
            + (notes.Count > 0 ? " Problems: " + string.Join("; ", notes) : "");
        return new NativeLoadReport(fix, runtime, patched, detail);
    }

    /// <summary>
    /// Returns the file whose need is weak (the candidate itself or a private copy), or null when the
    /// file needs nothing, with what was done. The NuGet cache is never written: a copy there is redirected.
    /// </summary>
    private static (string? File, GlueLibraryPatch.Outcome Outcome) PatchOrRedirect(string path)
    {
        var need = GlueLibraryPatch.CheckedNeed(path);
        if (need is null)
            return (null, GlueLibraryPatch.Outcome.NoNeed);
        if (need.IsWeak)
            return (path, GlueLibraryPatch.Outcome.AlreadyWeak);
        if (GlueLibraryPatch.IsInside(path, NuGetPackagesFolder()))
            return (RedirectToPatchedCopy(path), GlueLibraryPatch.Outcome.MarkedWeak);
        try
        {
            return (path, GlueLibraryPatch.MakeNeedWeak(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (RedirectToPatchedCopy(path), GlueLibraryPatch.Outcome.MarkedWeak);
        }
    }

    /// <summary>The user's NuGet packages folder (NUGET_PACKAGES, or ~/.nuget/packages).</summary>
    private static string NuGetPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>
    /// Patches a copy next to <paramref name="path"/> and renames it over the original. The original
    /// file's bytes are never written: where a build made <paramref name="path"/> a hard link to the
    /// NuGet cache's copy (CreateHardLinksForCopyLocalIfPossible), the cache keeps its file and only this
    /// folder gets the patched one.
    /// </summary>
    internal static void ReplaceWithPatchedCopy(string path)
    {
        string staging = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.Copy(path, staging, overwrite: true);
            ElfVersionInfo.MarkNeedWeak(staging, CppRuntime, MissingVersion);
            File.Move(staging, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(staging))
                File.Delete(staging);
        }
    }

    /// <summary>For a read-only installation: patch a private copy and point TorchSharp's imports at it.</summary>
    private static string RedirectToPatchedCopy(string path)
    {
        var source = new FileInfo(path);
        string folder = Path.Combine(Path.GetTempPath(), "seqsharp-native",
            $"{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(source.FullName)))[..16]}-{source.Length}-{source.LastWriteTimeUtc.Ticks}");
        Directory.CreateDirectory(folder);
        string copy = Path.Combine(folder, GlueLibrary);
        string staging = copy + "." + Environment.ProcessId + ".tmp";
        File.Copy(path, staging, overwrite: true);
        ElfVersionInfo.MarkNeedWeak(staging, CppRuntime, MissingVersion);
        File.Move(staging, copy, overwrite: true);

        // libLibTorchSharp finds libtorch_cpu and friends through its RUNPATH ($ORIGIN), which now
        // points at the copy's folder: load them from the original folder first.
        string original = Path.GetDirectoryName(source.FullName)!;
        foreach (string dependency in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" })
        {
            string file = Path.Combine(original, dependency);
            if (File.Exists(file))
                NativeLibrary.Load(file);
        }
        IntPtr handle = NativeLibrary.Load(copy);
        NativeLibrary.SetDllImportResolver(typeof(TorchSharp.torch).Assembly,
            (name, _, _) => name is "LibTorchSharp" or GlueLibrary ? handle : IntPtr.Zero);
        return copy;
    }

    /// <summary>The path of the C++ runtime the process uses (the .NET host itself links it).</summary>
    private static string? FindCppRuntime()
    {
        string? loaded = GlueLibraryPatch.FindMappedCppRuntime();
        if (loaded is not null)
            return loaded;
        return NativeLibrary.TryLoad(CppRuntime, out _) ? GlueLibraryPatch.FindMappedCppRuntime() : null;
    }

    /// <summary>Every place the runtime or TorchSharp may load the glue library from.</summary>
    private static IEnumerable<string> GlueLibraryCandidates()
    {
        var folders = new List<string>();
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string searchPath)
            folders.AddRange(searchPath.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        string torchFolder = Path.GetDirectoryName(typeof(TorchSharp.torch).Assembly.Location) ?? AppContext.BaseDirectory;
        folders.Add(torchFolder);
        folders.Add(Path.Combine(torchFolder, "runtimes", RuntimeInformation.RuntimeIdentifier, "native"));
        folders.Add(Path.Combine(torchFolder, "runtimes", "linux-x64", "native"));
        return folders
            .Select(f => Path.GetFullPath(Path.Combine(f, GlueLibrary)))
            .Distinct(StringComparer.Ordinal)
            .Where(File.Exists);
    }
}
