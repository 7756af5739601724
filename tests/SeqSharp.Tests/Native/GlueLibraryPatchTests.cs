using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.Versioning;
using SeqSharp.Native;
using Xunit.Abstractions;

namespace SeqSharp.Tests.Native;

/// <summary>
/// The checks and the edit shared by the build step and the start-up fix, on copies of TorchSharp's
/// shipped (unpatched) glue library: what may be changed, what is refused, and that refusals leave
/// the file as it was.
/// </summary>
public class GlueLibraryPatchTests(ITestOutputHelper output)
{
    private const string Missing = "GLIBCXX_3.4.32";

    private static string NuGetPackages() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>A fresh folder holding an unpatched copy of the glue library (from the NuGet cache, or the loaded one with the flag cleared).</summary>
    private static (string Folder, string File) UnpatchedCopy()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"seqsharp-glue-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        string copy = Path.Combine(folder, GlueLibraryPatch.FileName);
        string cached = Path.Combine(NuGetPackages(), "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", GlueLibraryPatch.FileName);
        if (File.Exists(cached))
        {
            File.Copy(cached, copy);
            // Some other program may have edited the cache's copy (SeqSharp never does): undo it here.
            var cachedNeed = ElfVersionInfo.Read(copy).Needs.Single(n => n.Version == Missing);
            if (cachedNeed.IsWeak)
                WriteU16(copy, cachedNeed.FlagsOffset, (ushort)(cachedNeed.Flags & ~ElfVersionInfo.VerFlagWeak));
        }
        else
        {
            using (var t = torch.ones(1)) { }
            string loaded = File.ReadLines("/proc/self/maps").Select(l => l.IndexOf('/') is int i and >= 0 ? l[i..] : "")
                .First(p => Path.GetFileName(p) == GlueLibraryPatch.FileName);
            File.Copy(loaded, copy);
            var need = ElfVersionInfo.Read(copy).Needs.Single(n => n.Version == Missing);
            WriteU16(copy, need.FlagsOffset, (ushort)(need.Flags & ~ElfVersionInfo.VerFlagWeak));
        }
        Assert.False(GlueLibraryPatch.CheckedNeed(copy)!.IsWeak);
        return (folder, copy);
    }

    private static void WriteU16(string path, long offset, ushort value)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        stream.Position = offset;
        stream.Write(bytes);
    }

    private static void Chattr(string flag, string path) => Run("chattr", flag, path);

    private static void Run(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true })!;
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} failed: {process.StandardError.ReadToEnd()}");
    }

    [Fact]
    public void MakeNeedWeak_ShippedLibrary_ChangesTwoBytesThroughANewFileAndIsIdempotent()
    {
        var (folder, copy) = UnpatchedCopy();
        try
        {
            var need = GlueLibraryPatch.CheckedNeed(copy)!;
            // A hard link stands for the NuGet cache's file: the edit must not reach it.
            string link = Path.Combine(folder, "cache-copy.so");
            Run("ln", copy, link);
            byte[] before = File.ReadAllBytes(copy);

            Assert.Equal(GlueLibraryPatch.Outcome.MarkedWeak, GlueLibraryPatch.MakeNeedWeak(copy));
            byte[] after = File.ReadAllBytes(copy);
            var changed = Enumerable.Range(0, before.Length).Where(k => before[k] != after[k]).ToList();
            output.WriteLine($"Changed offsets: {string.Join(", ", changed)}; vna_flags at {need.FlagsOffset}.");
            Assert.Equal(before.Length, after.Length);
            Assert.NotEmpty(changed);
            Assert.All(changed, k => Assert.InRange(k, need.FlagsOffset, need.FlagsOffset + 1));
            Assert.Equal(need.Flags | ElfVersionInfo.VerFlagWeak, BinaryPrimitives.ReadUInt16LittleEndian(after.AsSpan((int)need.FlagsOffset)));
            Assert.Equal(before, File.ReadAllBytes(link));
            Assert.Equal([GlueLibraryPatch.FileName, "cache-copy.so"], Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).Reverse());

            Assert.Equal(GlueLibraryPatch.Outcome.AlreadyWeak, GlueLibraryPatch.MakeNeedWeak(copy));
            Assert.Equal(after, File.ReadAllBytes(copy));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void MakeNeedWeak_AnotherSymbolBoundToTheVersion_RefusesAndLeavesTheFile()
    {
        var (folder, copy) = UnpatchedCopy();
        try
        {
            var info = ElfVersionInfo.Read(copy);
            var need = info.Needs.Single(n => n.File == GlueLibraryPatch.CppRuntime && n.Version == Missing);
            // Bind one more symbol (one bound to another libstdc++ version) to GLIBCXX_3.4.32 in .gnu.version.
            int other = info.DynamicSymbols.Select((s, i) => (s, i)).First(p => p.s.Version > 1 && p.s.Version != need.Index && p.s.Name.StartsWith("_ZNS", StringComparison.Ordinal)).i;
            string name = info.DynamicSymbols[other].Name;
            WriteU16(copy, info.SymbolVersionsOffset + 2L * other, (ushort)need.Index);
            byte[] before = File.ReadAllBytes(copy);

            var error = Assert.Throws<InvalidDataException>(() => GlueLibraryPatch.MakeNeedWeak(copy));
            output.WriteLine(error.Message);
            Assert.Contains(name, error.Message);
            Assert.Contains("not be safe", error.Message);
            Assert.Equal(before, File.ReadAllBytes(copy));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void MakeNeedWeak_ReadOnlyFileOrFolder_ThrowsAndLeavesTheFile()
    {
        // Root ignores permission bits, so read-only is made with the immutable attribute there.
        bool root = Environment.UserName == "root";
        var (folder, copy) = UnpatchedCopy();
        byte[] before = File.ReadAllBytes(copy);
        try
        {
            if (root)
                Chattr("+i", copy);
            else
                File.SetUnixFileMode(copy, UnixFileMode.UserRead);
            var fileError = Record.Exception(() => GlueLibraryPatch.MakeNeedWeak(copy));
            output.WriteLine($"Read-only file: {fileError?.GetType().Name}: {fileError?.Message}");
            Assert.True(fileError is IOException or UnauthorizedAccessException, $"Expected an I/O or access error. Received: {fileError}");
            Assert.Equal(before, File.ReadAllBytes(copy));
            if (root)
                Chattr("-i", copy);
            else
                File.SetUnixFileMode(copy, UnixFileMode.UserRead | UnixFileMode.UserWrite);

            // The file is writable, its folder is not: the replacement cannot be written next to it.
            if (root)
                Chattr("+i", folder);
            else
                File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            var folderError = Record.Exception(() => GlueLibraryPatch.MakeNeedWeak(copy));
            output.WriteLine($"Read-only folder: {folderError?.GetType().Name}: {folderError?.Message}");
            Assert.True(folderError is IOException or UnauthorizedAccessException, $"Expected an I/O or access error. Received: {folderError}");
            Assert.Equal(before, File.ReadAllBytes(copy));
            Assert.Single(Directory.GetFiles(folder));
        }
        finally
        {
            if (root)
            {
                Chattr("-i", folder);
                Chattr("-i", copy);
            }
            else
            {
                File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void IsInside_ComparesWholeFolderNames()
    {
        Assert.True(GlueLibraryPatch.IsInside("/root/.nuget/packages/torchsharp/0.107.0/x.so", "/root/.nuget/packages"));
        Assert.True(GlueLibraryPatch.IsInside("/root/.nuget/packages/a/../torchsharp/x.so", "/root/.nuget/packages/"));
        Assert.False(GlueLibraryPatch.IsInside("/root/.nuget/packages-other/x.so", "/root/.nuget/packages"));
        Assert.False(GlueLibraryPatch.IsInside("/app/bin/x.so", null));
        Assert.False(GlueLibraryPatch.IsInside("/app/bin/x.so", ""));
    }
}
