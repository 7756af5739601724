using System.Buffers.Binary;
using System.Text;
using SeqSharp.Native;
using Xunit.Abstractions;

namespace SeqSharp.Tests.Native;

public class TorchNativeTests(ITestOutputHelper output)
{
    private const string CppRuntime = "libstdc++.so.6";
    private const string Missing = "GLIBCXX_3.4.32";
    private const string GlueLibrary = "libLibTorchSharp.so";

    /// <summary>The file behind the first mapping of this process whose file name satisfies <paramref name="matches"/>.</summary>
    private static string? Mapped(Func<string, bool> matches)
    {
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            int slash = line.IndexOf('/');
            if (slash >= 0 && matches(Path.GetFileName(line[slash..])))
                return line[slash..];
        }
        return null;
    }

    private static string MappedCppRuntime() =>
        Mapped(n => n == CppRuntime || n.StartsWith(CppRuntime + ".", StringComparison.Ordinal))
        ?? throw new InvalidOperationException($"{CppRuntime} is not mapped in the test process.");

    private static string MappedGlueLibrary()
    {
        // Make sure TorchSharp's glue library has been loaded by an actual tensor operation.
        using (var t = torch.ones(3))
            Assert.Equal(3f, t.sum().item<float>());
        return Mapped(n => n == GlueLibrary) ?? throw new InvalidOperationException($"{GlueLibrary} is not mapped after a tensor operation.");
    }

    /// <summary>Whether the NUL-terminated string occurs anywhere in the file: a plain byte scan, no ELF parsing.</summary>
    private static bool FileContains(byte[] file, string text) => file.AsSpan().IndexOf(Encoding.ASCII.GetBytes(text + "\0")) >= 0;

    private static ElfVersionInfo.VersionNeed MissingNeed(string path) =>
        ElfVersionInfo.Read(path).Needs.Single(n => n.File == CppRuntime && n.Version == Missing);

    [Fact]
    public void EnsureLoaded_FixIsAppliedExactlyWhenTheSystemRuntimeLacksTheVersion()
    {
        Assert.True(OperatingSystem.IsLinux(), "These tests are written for Linux, the platform the fix is for.");
        string runtime = MappedCppRuntime();
        byte[] bytes = File.ReadAllBytes(runtime);
        var definitions = ElfVersionInfo.Read(runtime).Definitions;

        // The ELF parser and a raw byte scan agree on which versions the runtime defines.
        bool systemHasIt = FileContains(bytes, Missing);
        foreach (string version in new[] { "GLIBCXX_3.4", "GLIBCXX_3.4.21", "GLIBCXX_3.4.26", "GLIBCXX_3.4.30", Missing, "GLIBCXX_3.4.99" })
            Assert.Equal(FileContains(bytes, version), definitions.Contains(version));
        Assert.Contains("GLIBCXX_3.4", definitions);

        var report = TorchNative.EnsureLoaded();
        string glue = MappedGlueLibrary();
        var need = MissingNeed(glue);
        output.WriteLine($"{runtime} defines {Missing}: {systemHasIt}. Fix: {report.Fix}. Loaded glue library: {glue}, need weak: {need.IsWeak}. {report.Detail}");

        Assert.Equal(runtime, report.CppRuntime);
        if (!systemHasIt)
        {
            // This test project is built with the package's build step (Directory.Build.targets imports
            // buildTransitive/SeqSharp.targets), which made the edit in bin/ before this process started:
            // the runtime fix found it done. Applied here would mean the build step did not run.
            Assert.Equal(NativeFix.AlreadyApplied, report.Fix);
            Assert.True(need.IsWeak, $"The loaded {glue} still needs {Missing} strongly.");
            Assert.Equal([TorchNative.UnusedSymbol], ElfVersionInfo.Read(glue).SymbolsBoundTo(need));
            Assert.Contains(glue, report.PatchedFiles);
        }
        else
        {
            Assert.Equal(NativeFix.NotNeeded, report.Fix);
            Assert.Empty(report.PatchedFiles);
            Assert.False(need.IsWeak, $"{glue} was patched although {runtime} defines {Missing}.");
        }
    }

    [Fact]
    public void Read_NonElfFiles_ThrowInvalidDataException()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "#!/bin/sh\necho not an ELF file, long enough to pass the size check of sixty-four bytes\n");
            Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => ElfVersionInfo.Read(path)).Message);

            File.WriteAllBytes(path, []);
            Assert.Throws<InvalidDataException>(() => ElfVersionInfo.Read(path));

            // A 32-bit ELF header.
            var header = new byte[64];
            "\x7f"u8.CopyTo(header);
            "ELF"u8.CopyTo(header.AsSpan(1));
            header[4] = 1;
            header[5] = 1;
            File.WriteAllBytes(path, header);
            Assert.Contains("64-bit", Assert.Throws<InvalidDataException>(() => ElfVersionInfo.Read(path)).Message);

            // A real ELF file cut short: its section table lies beyond the end.
            File.WriteAllBytes(path, File.ReadAllBytes(MappedCppRuntime())[..4096]);
            Assert.Throws<InvalidDataException>(() => ElfVersionInfo.Read(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int HardLink(string existing, string created);

    /// <summary>
    /// A build with hard links makes bin/'s library the NuGet cache's own inode: the fix must patch a
    /// new file and rename it over, leaving the linked original's bytes as they were.
    /// </summary>
    [Fact]
    public void ReplaceWithPatchedCopy_HardLinkedFile_OriginalInodeUntouched()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"seqsharp-link-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            string original = Path.Combine(folder, "cache-" + GlueLibrary);
            string linked = Path.Combine(folder, GlueLibrary);
            File.Copy(MappedGlueLibrary(), original);
            var loaded = MissingNeed(original);
            using (var stream = new FileStream(original, FileMode.Open, FileAccess.ReadWrite))
            {
                var flags = new byte[2];
                BinaryPrimitives.WriteUInt16LittleEndian(flags, (ushort)(loaded.Flags & ~ElfVersionInfo.VerFlagWeak));
                stream.Position = loaded.FlagsOffset;
                stream.Write(flags);
            }
            Assert.Equal(0, HardLink(original, linked));
            byte[] before = File.ReadAllBytes(original);
            Assert.False(MissingNeed(linked).IsWeak);

            TorchNative.ReplaceWithPatchedCopy(linked);

            Assert.True(MissingNeed(linked).IsWeak);
            Assert.Equal(before, File.ReadAllBytes(original));
            Assert.Equal(2, Directory.GetFiles(folder).Length);   // no staging file left behind
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void MarkNeedWeak_UnpatchedCopy_ChangesOnlyTheFlagsFieldAndIsIdempotent()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string cached = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", GlueLibrary);
        string copy = Path.Combine(Path.GetTempPath(), $"seqsharp-test-{Guid.NewGuid():N}-{GlueLibrary}");
        try
        {
            if (File.Exists(cached))
            {
                File.Copy(cached, copy);
            }
            else
            {
                // No NuGet cache: take the loaded library and undo the fix by hand.
                File.Copy(MappedGlueLibrary(), copy);
                var loaded = MissingNeed(copy);
                using var stream = new FileStream(copy, FileMode.Open, FileAccess.ReadWrite);
                var flags = new byte[2];
                BinaryPrimitives.WriteUInt16LittleEndian(flags, (ushort)(loaded.Flags & ~ElfVersionInfo.VerFlagWeak));
                stream.Position = loaded.FlagsOffset;
                stream.Write(flags);
            }
            output.WriteLine($"Unpatched library from {(File.Exists(cached) ? cached : "the process, flag cleared by hand")}.");

            var need = MissingNeed(copy);
            Assert.False(need.IsWeak);
            var otherNeeds = ElfVersionInfo.Read(copy).Needs.Where(n => n != need).ToList();
            Assert.Equal([TorchNative.UnusedSymbol], ElfVersionInfo.Read(copy).SymbolsBoundTo(need));
            byte[] before = File.ReadAllBytes(copy);

            Assert.Equal(1, ElfVersionInfo.MarkNeedWeak(copy, CppRuntime, Missing));
            byte[] after = File.ReadAllBytes(copy);
            Assert.Equal(before.Length, after.Length);
            var changed = Enumerable.Range(0, before.Length).Where(k => before[k] != after[k]).ToList();
            output.WriteLine($"Bytes changed: {changed.Count}, at offsets {string.Join(", ", changed)}; vna_flags field at {need.FlagsOffset} (2 bytes): " +
                $"0x{need.Flags:x4} -> 0x{BinaryPrimitives.ReadUInt16LittleEndian(after.AsSpan((int)need.FlagsOffset)):x4}.");
            // Only the 2-byte vna_flags field is written: 0x0000 -> 0x0002 differs in its low byte.
            Assert.NotEmpty(changed);
            Assert.All(changed, k => Assert.InRange(k, need.FlagsOffset, need.FlagsOffset + 1));
            Assert.Equal(need.Flags | ElfVersionInfo.VerFlagWeak, BinaryPrimitives.ReadUInt16LittleEndian(after.AsSpan((int)need.FlagsOffset)));

            var patched = ElfVersionInfo.Read(copy);
            Assert.True(patched.Needs.Single(n => n.File == CppRuntime && n.Version == Missing).IsWeak);
            Assert.Equal(otherNeeds, patched.Needs.Where(n => n.Version != Missing || n.File != CppRuntime));

            // Idempotent: nothing left to change, the file stays byte for byte the same.
            Assert.Equal(0, ElfVersionInfo.MarkNeedWeak(copy, CppRuntime, Missing));
            Assert.Equal(after, File.ReadAllBytes(copy));
            // A version the library does not need: nothing changes either.
            Assert.Equal(0, ElfVersionInfo.MarkNeedWeak(copy, CppRuntime, "GLIBCXX_9.9"));
            Assert.Equal(after, File.ReadAllBytes(copy));
        }
        finally
        {
            File.Delete(copy);
        }
    }
}
