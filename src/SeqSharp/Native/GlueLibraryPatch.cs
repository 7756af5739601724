// One file on purpose: SeqSharp compiles it for the fix at start-up, and the package's build step
// (buildTransitive/SeqSharp.targets) compiles this same file as an MSBuild inline task on the
// user's machine, where an inline task is a single source file built against .NET Standard 2.0.
// Hence byte arrays instead of spans, and explicit usings. Both fixes run the same checks.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace SeqSharp.Native
{
    /// <summary>
    /// The weak-version edit of TorchSharp's <c>libLibTorchSharp.so</c> (docs/native-loading.md):
    /// the checks that decide whether a file may be changed, and the two-byte change itself.
    /// </summary>
    internal static class GlueLibraryPatch
    {
        /// <summary>The C++ runtime library whose version definitions are checked.</summary>
        public const string CppRuntime = "libstdc++.so.6";

        /// <summary>The version that TorchSharp 0.107.0's glue library needs and GCC 12 lacks.</summary>
        public const string MissingVersion = "GLIBCXX_3.4.32";

        /// <summary>The only symbol that library binds to <see cref="MissingVersion"/>.</summary>
        public const string UnusedSymbol = "_ZSt21ios_base_library_initv";

        /// <summary>The glue library's file name.</summary>
        public const string FileName = "libLibTorchSharp.so";

        /// <summary>What <see cref="MakeNeedWeak"/> found.</summary>
        public enum Outcome
        {
            /// <summary>The file does not need <see cref="MissingVersion"/>: nothing to do.</summary>
            NoNeed,

            /// <summary>The need was weak already (an earlier build or run): the file is unchanged.</summary>
            AlreadyWeak,

            /// <summary>The need has just been marked weak.</summary>
            MarkedWeak,
        }

        /// <summary>The path of the <c>libstdc++.so.6</c> mapped in this process, or null (not Linux, not loaded).</summary>
        public static string? FindMappedCppRuntime()
        {
            if (!File.Exists("/proc/self/maps"))
                return null;
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                // The mapping shows the real file (libstdc++.so.6.0.30), not the soname link.
                int slash = line.IndexOf('/');
                if (slash < 0)
                    continue;
                string name = Path.GetFileName(line.Substring(slash));
                if (name == CppRuntime || name.StartsWith(CppRuntime + ".", StringComparison.Ordinal))
                    return line.Substring(slash);
            }
            return null;
        }

        /// <summary>Whether the C++ runtime at <paramref name="runtimePath"/> defines <see cref="MissingVersion"/> (then no fix is needed).</summary>
        public static bool DefinesMissingVersion(string runtimePath) =>
            ElfVersionInfo.Read(runtimePath).Definitions.Contains(MissingVersion);

        /// <summary>
        /// Checks <paramref name="path"/> and returns its need of <see cref="MissingVersion"/>, or null
        /// when it has none. Throws when the file is not what the edit expects.
        /// </summary>
        /// <exception cref="InvalidDataException">Not a 64-bit little-endian ELF file, or a symbol other
        /// than <see cref="UnusedSymbol"/> is bound to the version, so making it weak would not be safe.</exception>
        public static ElfVersionInfo.VersionNeed? CheckedNeed(string path)
        {
            var info = ElfVersionInfo.Read(path);
            var need = info.Needs.FirstOrDefault(n => n.File == CppRuntime && n.Version == MissingVersion);
            if (need is null)
                return null;
            var bound = info.SymbolsBoundTo(need).ToList();
            if (bound.Any(s => s != UnusedSymbol))
                throw new InvalidDataException(
                    $"{MissingVersion} is bound to symbols other than {UnusedSymbol} ({string.Join(", ", bound)}); marking it weak would not be safe.");
            return need;
        }

        /// <summary>
        /// Marks the need weak in <paramref name="path"/> after <see cref="CheckedNeed"/>'s checks.
        /// The edited file replaces the original (written next to it, then moved over it), so a hard
        /// or symbolic link to another copy, such as the NuGet cache's, is never written through.
        /// </summary>
        /// <exception cref="InvalidDataException">See <see cref="CheckedNeed"/>; the file is unchanged.</exception>
        /// <exception cref="IOException">The file or its folder cannot be written; the file is unchanged.</exception>
        /// <exception cref="UnauthorizedAccessException">The same, reported as a permission error.</exception>
        public static Outcome MakeNeedWeak(string path)
        {
            var need = CheckedNeed(path);
            if (need is null)
                return Outcome.NoNeed;
            if (need.IsWeak)
                return Outcome.AlreadyWeak;

            // Refuse a file the user cannot write, even in a writable folder: it was made read-only on purpose.
            using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite)) { }
            string staging = path + ".seqsharp-" + Guid.NewGuid().ToString("N") + ".tmp";
            try
            {
                File.Copy(path, staging, overwrite: false);
                ElfVersionInfo.MarkNeedWeak(staging, CppRuntime, MissingVersion);
                File.Delete(path);
                File.Move(staging, path);
            }
            finally
            {
                if (File.Exists(staging))
                    File.Delete(staging);
            }
            return Outcome.MarkedWeak;
        }

        /// <summary>Whether <paramref name="path"/> lies inside <paramref name="folder"/> (compared as full paths).</summary>
        public static bool IsInside(string path, string? folder)
        {
            if (folder is null || folder.Length == 0)
                return false;
            string root = Path.GetFullPath(folder).TrimEnd('/') + "/";
            return Path.GetFullPath(path).StartsWith(root, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Reads and edits the GNU symbol-versioning sections of a 64-bit little-endian ELF shared object:
    /// the version definitions a library provides (<c>.gnu.version_d</c>) and the versions it needs
    /// from other libraries (<c>.gnu.version_r</c>).
    /// </summary>
    internal sealed class ElfVersionInfo
    {
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtGnuVersym = 0x6fffffff;
        private const uint ShtDynsym = 11;

        /// <summary>The <c>VER_FLG_WEAK</c> flag of a version need: a missing weak version is not fatal.</summary>
        internal const ushort VerFlagWeak = 0x2;

        private ElfVersionInfo(IReadOnlyList<string> definitions, IReadOnlyList<VersionNeed> needs, IReadOnlyList<(string Name, int Version)> symbols, long versymOffset)
        {
            Definitions = definitions;
            Needs = needs;
            DynamicSymbols = symbols;
            SymbolVersionsOffset = versymOffset;
        }

        /// <summary>Version names the library defines (for libstdc++: GLIBCXX_3.4, ..., GLIBCXX_3.4.30, ...).</summary>
        public IReadOnlyList<string> Definitions { get; }

        /// <summary>Versions the library needs, one entry per (file, version) pair.</summary>
        public IReadOnlyList<VersionNeed> Needs { get; }

        /// <summary>Dynamic symbols with their version index (the low 15 bits of <c>.gnu.version</c>).</summary>
        public IReadOnlyList<(string Name, int Version)> DynamicSymbols { get; }

        /// <summary>File offset of the <c>.gnu.version</c> table (two bytes per dynamic symbol), or -1 without one.</summary>
        public long SymbolVersionsOffset { get; }

        /// <summary>Names of the dynamic symbols bound to a needed version.</summary>
        public IEnumerable<string> SymbolsBoundTo(VersionNeed need) =>
            DynamicSymbols.Where(s => s.Version == need.Index).Select(s => s.Name);

        /// <summary>One <c>Vernaux</c> entry: a version needed from a file, and where its flags are stored.</summary>
        public sealed class VersionNeed : IEquatable<VersionNeed>
        {
            /// <summary>Creates an entry.</summary>
            public VersionNeed(string file, string version, ushort flags, int index, long flagsOffset)
            {
                File = file;
                Version = version;
                Flags = flags;
                Index = index;
                FlagsOffset = flagsOffset;
            }

            /// <summary>The needed library's name, e.g. <c>libstdc++.so.6</c>.</summary>
            public string File { get; }

            /// <summary>The version name, e.g. <c>GLIBCXX_3.4.32</c>.</summary>
            public string Version { get; }

            /// <summary>The entry's <c>vna_flags</c>.</summary>
            public ushort Flags { get; }

            /// <summary>The entry's <c>vna_other</c>: the version index symbols refer to.</summary>
            public int Index { get; }

            /// <summary>File offset of <c>vna_flags</c> (two bytes, little-endian).</summary>
            public long FlagsOffset { get; }

            /// <summary>Whether the loader tolerates this version being absent.</summary>
            public bool IsWeak => (Flags & VerFlagWeak) != 0;

            /// <inheritdoc />
            public bool Equals(VersionNeed? other) =>
                other is not null && File == other.File && Version == other.Version && Flags == other.Flags
                && Index == other.Index && FlagsOffset == other.FlagsOffset;

            /// <inheritdoc />
            public override bool Equals(object? obj) => Equals(obj as VersionNeed);

            /// <inheritdoc />
            public override int GetHashCode() => (File, Version, Flags, Index, FlagsOffset).GetHashCode();

            /// <summary>Value equality, as for a record.</summary>
            public static bool operator ==(VersionNeed? left, VersionNeed? right) => left is null ? right is null : left.Equals(right);

            /// <summary>Value inequality, as for a record.</summary>
            public static bool operator !=(VersionNeed? left, VersionNeed? right) => !(left == right);

            /// <inheritdoc />
            public override string ToString() => $"{File} {Version} (flags 0x{Flags:x4}, index {Index})";
        }

        /// <summary>Parses the file at <paramref name="path"/>.</summary>
        /// <exception cref="InvalidDataException">The file is not a 64-bit little-endian ELF object.</exception>
        public static ElfVersionInfo Read(string path) => Parse(File.ReadAllBytes(path));

        /// <summary>Parses an ELF image held in memory.</summary>
        /// <exception cref="InvalidDataException">The bytes are not a 64-bit little-endian ELF object.</exception>
        public static ElfVersionInfo Parse(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("Not an ELF file: the magic number 0x7F 'E' 'L' 'F' is missing.");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException($"Expected a 64-bit little-endian ELF file. Received: class {elf[4]}, data encoding {elf[5]}.");

            long sectionTable = (long)U64(elf, 0x28);
            int entrySize = U16(elf, 0x3A);
            int count = U16(elf, 0x3C);
            if (sectionTable <= 0 || entrySize < 64 || sectionTable + (long)entrySize * count > elf.Length)
                throw new InvalidDataException("The ELF section header table is missing or lies outside the file.");

            var definitions = new List<string>();
            var needs = new List<VersionNeed>();
            var names = new List<string>();
            var versions = new List<int>();
            long versymOffset = -1;
            for (int i = 0; i < count; i++)
            {
                long header = sectionTable + (long)i * entrySize;
                uint type = U32(elf, header + 0x04);
                long offset = (long)U64(elf, header + 0x18);
                long size = (long)U64(elf, header + 0x20);
                if (type == ShtGnuVersym)
                {
                    Check(elf, offset, size);
                    versymOffset = offset;
                    for (long k = 0; k + 1 < size; k += 2)
                        versions.Add(U16(elf, offset + k) & 0x7fff);
                    continue;
                }
                if (type == ShtDynsym)
                {
                    Check(elf, offset, size);
                    var dynstr = StringTable(elf, sectionTable, entrySize, count, (int)U32(elf, header + 0x28));
                    for (long k = 0; k + 24 <= size; k += 24)
                        names.Add(CString(elf, dynstr, U32(elf, offset + k)));
                    continue;
                }
                if (type != ShtGnuVerdef && type != ShtGnuVerneed)
                    continue;

                int entries = (int)U32(elf, header + 0x2C);
                var strings = StringTable(elf, sectionTable, entrySize, count, (int)U32(elf, header + 0x28));
                if (type == ShtGnuVerdef)
                    ReadDefinitions(elf, offset, entries, strings, definitions);
                else
                    ReadNeeds(elf, offset, entries, strings, needs);
            }
            var symbols = names.Zip(versions, (n, v) => (n, v)).ToList();
            return new ElfVersionInfo(definitions, needs, symbols, versymOffset);
        }

        /// <summary>
        /// Marks every need of <paramref name="version"/> from <paramref name="file"/> as weak, in place.
        /// Returns the number of entries changed (0 when they were weak already or absent).
        /// </summary>
        public static int MarkNeedWeak(string path, string file, string version)
        {
            var info = Read(path);
            int changed = 0;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
            {
                foreach (var need in info.Needs)
                {
                    if (need.File != file || need.Version != version || need.IsWeak)
                        continue;
                    int flags = need.Flags | VerFlagWeak;
                    stream.Position = need.FlagsOffset;
                    stream.Write(new[] { (byte)(flags & 0xff), (byte)(flags >> 8) }, 0, 2);
                    changed++;
                }
                stream.Flush(flushToDisk: true);
            }
            return changed;
        }

        private static void ReadDefinitions(byte[] elf, long offset, int entries, (long Offset, long Size) strings, List<string> into)
        {
            long at = offset;
            for (int i = 0; i < entries; i++)
            {
                Check(elf, at, 20);
                int auxCount = U16(elf, at + 0x06);
                long aux = at + U32(elf, at + 0x0C);
                // The first Verdaux names the version itself; further ones name its parents.
                if (auxCount > 0)
                {
                    Check(elf, aux, 8);
                    into.Add(CString(elf, strings, U32(elf, aux)));
                }
                uint next = U32(elf, at + 0x10);
                if (next == 0)
                    break;
                at += next;
            }
        }

        private static void ReadNeeds(byte[] elf, long offset, int entries, (long Offset, long Size) strings, List<VersionNeed> into)
        {
            long at = offset;
            for (int i = 0; i < entries; i++)
            {
                Check(elf, at, 16);
                int auxCount = U16(elf, at + 0x02);
                string file = CString(elf, strings, U32(elf, at + 0x04));
                long aux = at + U32(elf, at + 0x08);
                for (int j = 0; j < auxCount; j++)
                {
                    Check(elf, aux, 16);
                    into.Add(new VersionNeed(file, CString(elf, strings, U32(elf, aux + 0x08)), U16(elf, aux + 0x04), U16(elf, aux + 0x06), aux + 0x04));
                    uint nextAux = U32(elf, aux + 0x0C);
                    if (nextAux == 0)
                        break;
                    aux += nextAux;
                }
                uint next = U32(elf, at + 0x0C);
                if (next == 0)
                    break;
                at += next;
            }
        }

        private static (long Offset, long Size) StringTable(byte[] elf, long sectionTable, int entrySize, int count, int index)
        {
            if (index <= 0 || index >= count)
                throw new InvalidDataException($"A version section links to string table {index}, outside the {count} sections.");
            long header = sectionTable + (long)index * entrySize;
            long offset = (long)U64(elf, header + 0x18);
            long size = (long)U64(elf, header + 0x20);
            Check(elf, offset, size);
            return (offset, size);
        }

        private static void Check(byte[] elf, long offset, long length)
        {
            if (offset < 0 || length < 0 || offset + length > elf.Length)
                throw new InvalidDataException($"ELF structure at offset {offset} (length {length}) lies outside the file of {elf.Length} bytes.");
        }

        private static string CString(byte[] elf, (long Offset, long Size) table, uint offset)
        {
            if (offset >= table.Size)
                throw new InvalidDataException($"ELF string offset {offset} lies outside its table of {table.Size} bytes.");
            long start = table.Offset + offset;
            long end = start;
            long limit = table.Offset + table.Size;
            while (end < limit && elf[end] != 0)
                end++;
            return Encoding.ASCII.GetString(elf, (int)start, (int)(end - start));
        }

        private static ushort U16(byte[] b, long at)
        {
            Check(b, at, 2);
            return (ushort)(b[at] | b[at + 1] << 8);
        }

        private static uint U32(byte[] b, long at)
        {
            Check(b, at, 4);
            return (uint)(b[at] | b[at + 1] << 8 | b[at + 2] << 16 | b[at + 3] << 24);
        }

        private static ulong U64(byte[] b, long at) => U32(b, at) | (ulong)U32(b, at + 4) << 32;
    }
}

#if !SEQSHARP_LIBRARY
namespace SeqSharp.Native.Build
{
    using Microsoft.Build.Framework;

    /// <summary>
    /// The build step: marks the <c>GLIBCXX_3.4.32</c> need weak in the copies of
    /// <c>libLibTorchSharp.so</c> that a build or publish has just written to its output folder,
    /// when the build machine's C++ runtime lacks that version. Never fails the build: a file it
    /// cannot or must not change gets a warning naming it, and SeqSharp's fix at start-up remains.
    /// </summary>
    public sealed class SeqSharpWeakenGlueLibraryNeed : Microsoft.Build.Utilities.Task
    {
        /// <summary>The copies of libLibTorchSharp.so in the output or publish folder.</summary>
        [Required]
        public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>The NuGet packages folder: never written to.</summary>
        public string? NuGetPackageRoot { get; set; }

        /// <inheritdoc />
        public override bool Execute()
        {
            string? runtime = GlueLibraryPatch.FindMappedCppRuntime();
            if (runtime is null)
            {
                Log.LogMessage(MessageImportance.Normal, $"SeqSharp: no {GlueLibraryPatch.CppRuntime} in the build process; {GlueLibraryPatch.FileName} is left as shipped (SeqSharp checks again at start-up).");
                return true;
            }
            try
            {
                if (GlueLibraryPatch.DefinesMissingVersion(runtime))
                {
                    Log.LogMessage(MessageImportance.Normal, $"SeqSharp: {runtime} defines {GlueLibraryPatch.MissingVersion}; {GlueLibraryPatch.FileName} loads as shipped and is left unchanged.");
                    return true;
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is InvalidDataException)
            {
                Log.LogWarning(null, "SEQ0100", null, runtime, 0, 0, 0, 0, $"SeqSharp could not read the C++ runtime {runtime} ({e.Message}); {GlueLibraryPatch.FileName} is left unchanged and SeqSharp checks again at start-up.");
                return true;
            }

            foreach (var item in Files)
            {
                string path = item.GetMetadata("FullPath");
                if (!File.Exists(path))
                    continue;
                if (GlueLibraryPatch.IsInside(path, NuGetPackageRoot))
                {
                    Log.LogWarning(null, "SEQ0103", null, path, 0, 0, 0, 0, $"{path} lies in the NuGet packages folder {NuGetPackageRoot}, which SeqSharp never writes to; left unchanged. SeqSharp's fix at start-up will load a patched private copy.");
                    continue;
                }
                try
                {
                    var outcome = GlueLibraryPatch.MakeNeedWeak(path);
                    if (outcome == GlueLibraryPatch.Outcome.MarkedWeak)
                        Log.LogMessage(MessageImportance.High, $"SeqSharp: {runtime} lacks {GlueLibraryPatch.MissingVersion}; marked that need of {path} weak, so TorchSharp loads it.");
                    else
                        Log.LogMessage(MessageImportance.Normal, $"SeqSharp: {path}: {(outcome == GlueLibraryPatch.Outcome.AlreadyWeak ? "the need is weak already" : "no need of " + GlueLibraryPatch.MissingVersion)}; unchanged.");
                }
                catch (InvalidDataException e)
                {
                    Log.LogWarning(null, "SEQ0101", null, path, 0, 0, 0, 0, $"{path} is not laid out as SeqSharp's edit expects ({e.Message}); left unchanged. TorchSharp may fail to load it on this system.");
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    Log.LogWarning(null, "SEQ0102", null, path, 0, 0, 0, 0, $"{path} cannot be written ({e.Message}); left unchanged. SeqSharp's fix at start-up will load a patched private copy instead.");
                }
            }
            return true;
        }
    }
}
#endif
