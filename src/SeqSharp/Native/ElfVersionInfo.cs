using System.Buffers.Binary;
using System.Text;

namespace SeqSharp.Native;

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

    private ElfVersionInfo(IReadOnlyList<string> definitions, IReadOnlyList<VersionNeed> needs, IReadOnlyList<(string Name, int Version)> symbols)
    {
        Definitions = definitions;
        Needs = needs;
        DynamicSymbols = symbols;
    }

    /// <summary>Version names the library defines (for libstdc++: GLIBCXX_3.4, ..., GLIBCXX_3.4.30, ...).</summary>
    public IReadOnlyList<string> Definitions { get; }

    /// <summary>Versions the library needs, one entry per (file, version) pair.</summary>
    public IReadOnlyList<VersionNeed> Needs { get; }

    /// <summary>Dynamic symbols with their version index (the low 15 bits of <c>.gnu.version</c>).</summary>
    public IReadOnlyList<(string Name, int Version)> DynamicSymbols { get; }

    /// <summary>Names of the dynamic symbols bound to a needed version.</summary>
    public IEnumerable<string> SymbolsBoundTo(VersionNeed need) =>
        DynamicSymbols.Where(s => s.Version == need.Index).Select(s => s.Name);

    /// <summary>One <c>Vernaux</c> entry: a version needed from a file, and where its flags are stored.</summary>
    /// <param name="File">The needed library's name, e.g. <c>libstdc++.so.6</c>.</param>
    /// <param name="Version">The version name, e.g. <c>GLIBCXX_3.4.32</c>.</param>
    /// <param name="Flags">The entry's <c>vna_flags</c>.</param>
    /// <param name="Index">The entry's <c>vna_other</c>: the version index symbols refer to.</param>
    /// <param name="FlagsOffset">File offset of <c>vna_flags</c> (two bytes, little-endian).</param>
    public sealed record VersionNeed(string File, string Version, ushort Flags, int Index, long FlagsOffset)
    {
        /// <summary>Whether the loader tolerates this version being absent.</summary>
        public bool IsWeak => (Flags & VerFlagWeak) != 0;
    }

    /// <summary>Parses the file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a 64-bit little-endian ELF object.</exception>
    public static ElfVersionInfo Read(string path) => Parse(File.ReadAllBytes(path));

    /// <summary>Parses an ELF image held in memory.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a 64-bit little-endian ELF object.</exception>
    public static ElfVersionInfo Parse(ReadOnlySpan<byte> elf)
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
        for (int i = 0; i < count; i++)
        {
            var header = elf.Slice(checked((int)(sectionTable + (long)i * entrySize)), entrySize);
            uint type = U32(header, 0x04);
            if (type == ShtGnuVersym)
            {
                var table = Slice(elf, (long)U64(header, 0x18), (long)U64(header, 0x20));
                for (int k = 0; k + 1 < table.Length; k += 2)
                    versions.Add(U16(table, k) & 0x7fff);
                continue;
            }
            if (type == ShtDynsym)
            {
                var table = Slice(elf, (long)U64(header, 0x18), (long)U64(header, 0x20));
                var dynstr = StringTable(elf, sectionTable, entrySize, count, (int)U32(header, 0x28));
                for (int k = 0; k + 24 <= table.Length; k += 24)
                    names.Add(CString(dynstr, U32(table, k)));
                continue;
            }
            if (type != ShtGnuVerdef && type != ShtGnuVerneed)
                continue;

            long offset = (long)U64(header, 0x18);
            int entries = (int)U32(header, 0x2C);
            int link = (int)U32(header, 0x28);
            var strings = StringTable(elf, sectionTable, entrySize, count, link);
            if (type == ShtGnuVerdef)
                ReadDefinitions(elf, offset, entries, strings, definitions);
            else
                ReadNeeds(elf, offset, entries, strings, needs);
        }
        var symbols = names.Zip(versions, (n, v) => (n, v)).ToList();
        return new ElfVersionInfo(definitions, needs, symbols);
    }

    /// <summary>
    /// Marks every need of <paramref name="version"/> from <paramref name="file"/> as weak, in place.
    /// Returns the number of entries changed (0 when they were weak already or absent).
    /// </summary>
    public static int MarkNeedWeak(string path, string file, string version)
    {
        var info = Read(path);
        int changed = 0;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        Span<byte> flags = stackalloc byte[2];
        foreach (var need in info.Needs)
        {
            if (need.File != file || need.Version != version || need.IsWeak)
                continue;
            BinaryPrimitives.WriteUInt16LittleEndian(flags, (ushort)(need.Flags | VerFlagWeak));
            stream.Position = need.FlagsOffset;
            stream.Write(flags);
            changed++;
        }
        stream.Flush(flushToDisk: true);
        return changed;
    }

    private static void ReadDefinitions(ReadOnlySpan<byte> elf, long offset, int entries, ReadOnlySpan<byte> strings, List<string> into)
    {
        long at = offset;
        for (int i = 0; i < entries; i++)
        {
            var def = Slice(elf, at, 20);
            int auxCount = U16(def, 0x06);
            long aux = at + U32(def, 0x0C);
            // The first Verdaux names the version itself; further ones name its parents.
            if (auxCount > 0)
                into.Add(CString(strings, U32(Slice(elf, aux, 8), 0)));
            uint next = U32(def, 0x10);
            if (next == 0)
                break;
            at += next;
        }
    }

    private static void ReadNeeds(ReadOnlySpan<byte> elf, long offset, int entries, ReadOnlySpan<byte> strings, List<VersionNeed> into)
    {
        long at = offset;
        for (int i = 0; i < entries; i++)
        {
            var need = Slice(elf, at, 16);
            int auxCount = U16(need, 0x02);
            string file = CString(strings, U32(need, 0x04));
            long aux = at + U32(need, 0x08);
            for (int j = 0; j < auxCount; j++)
            {
                var entry = Slice(elf, aux, 16);
                into.Add(new VersionNeed(file, CString(strings, U32(entry, 0x08)), U16(entry, 0x04), U16(entry, 0x06), aux + 0x04));
                uint nextAux = U32(entry, 0x0C);
                if (nextAux == 0)
                    break;
                aux += nextAux;
            }
            uint next = U32(need, 0x0C);
            if (next == 0)
                break;
            at += next;
        }
    }

    private static ReadOnlySpan<byte> StringTable(ReadOnlySpan<byte> elf, long sectionTable, int entrySize, int count, int index)
    {
        if (index <= 0 || index >= count)
            throw new InvalidDataException($"A version section links to string table {index}, outside the {count} sections.");
        var header = Slice(elf, sectionTable + (long)index * entrySize, entrySize);
        return Slice(elf, (long)U64(header, 0x18), (long)U64(header, 0x20));
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> elf, long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > elf.Length)
            throw new InvalidDataException($"ELF structure at offset {offset} (length {length}) lies outside the file of {elf.Length} bytes.");
        return elf.Slice((int)offset, (int)length);
    }

    private static string CString(ReadOnlySpan<byte> strings, uint offset)
    {
        if (offset >= strings.Length)
            throw new InvalidDataException($"ELF string offset {offset} lies outside its table of {strings.Length} bytes.");
        var rest = strings[(int)offset..];
        int end = rest.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? rest : rest[..end]);
    }

    private static ushort U16(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);
    private static uint U32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);
    private static ulong U64(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b[at..]);
}
