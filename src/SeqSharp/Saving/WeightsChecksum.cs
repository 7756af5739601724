using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.RegularExpressions;

namespace SeqSharp.Saving;

/// <summary>
/// The CRC-32 that SeqSharp writes into the user block of its <c>.weights.h5</c> files. HDF5 lets a file
/// start with a user block (512 bytes here) that the HDF5 library skips: the superblock follows it and
/// the file's addresses count from there, so h5py and Keras read the file as usual. SeqSharp writes one
/// line there, <c>SeqSharp CRC-32 &lt;8 hex digits&gt; of &lt;n&gt; bytes after this 512-byte block</c>,
/// padded with zeros, covering every byte of the HDF5 data. Reading checks it when present.
/// </summary>
/// <remarks>
/// The HDF5 checksums PureHDF writes (superblock version 2, version 2 object headers) are not checked
/// by PureHDF when reading, and do not cover the datasets' values; Keras (h5py) writes HDF5's earliest
/// format, which has no checksums at all. The user block covers everything in one check.
/// </remarks>
internal static partial class WeightsChecksum
{
    /// <summary>The user block's size: HDF5's smallest.</summary>
    public const int BlockSize = 512;

    private const string Marker = "SeqSharp CRC-32 ";

    /// <summary>Writes the checksum line into the user block of a complete HDF5 file written with a 512-byte user block.</summary>
    /// <param name="stream">The file, readable, writable and seekable.</param>
    public static void Stamp(Stream stream)
    {
        long length = stream.Length - BlockSize;
        uint crc = Compute(stream, length);
        var block = new byte[BlockSize];
        Encoding.ASCII.GetBytes(Line(crc, length)).CopyTo(block, 0);
        stream.Position = 0;
        stream.Write(block);
    }

    /// <summary>
    /// Checks the checksum of HDF5 data whose superblock is at offset 512, when its user block holds
    /// SeqSharp's line; a user block of anything else is left alone (another writer's).
    /// </summary>
    /// <exception cref="InvalidDataException">The line is damaged, or the data's length or CRC-32 differs from it.</exception>
    public static void Verify(Stream stream, string source)
    {
        if (stream.Length < BlockSize)
            return;
        var block = new byte[BlockSize];
        stream.Position = 0;
        stream.ReadExactly(block);
        if (!block.AsSpan().StartsWith(Encoding.ASCII.GetBytes(Marker)))
            return;
        int end = Array.IndexOf(block, (byte)'\n');
        var match = end < 0 ? null : LinePattern().Match(Encoding.ASCII.GetString(block, 0, end + 1));
        if (match is null || !match.Success || block.AsSpan(end + 1).ContainsAnyExcept((byte)0))
            throw new InvalidDataException($"'{source}': the checksum line in its first {BlockSize} bytes is damaged: the file is damaged.");
        uint stored = uint.Parse(match.Groups["crc"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        long length = long.Parse(match.Groups["length"].Value, CultureInfo.InvariantCulture);
        long actual = stream.Length - BlockSize;
        if (actual != length)
            throw new InvalidDataException(
                $"'{source}' holds {actual:N0} bytes of HDF5 data where its checksum line says {length:N0}: the file is {(actual < length ? "truncated" : "damaged")}.");
        uint computed = Compute(stream, length);
        if (computed != stored)
            throw new InvalidDataException($"'{source}' fails its CRC-32 check (stored {stored:x8}, computed {computed:x8}): the file is damaged.");
    }

    private static string Line(uint crc, long length) =>
        string.Create(CultureInfo.InvariantCulture, $"{Marker}{crc:x8} of {length} bytes after this {BlockSize}-byte block\n");

    private static uint Compute(Stream stream, long length)
    {
        var crc = new Crc32();
        var buffer = new byte[81920];
        stream.Position = BlockSize;
        for (long left = length; left > 0;)
        {
            int read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (read == 0)
                throw new EndOfStreamException();
            crc.Append(buffer.AsSpan(0, read));
            left -= read;
        }
        return crc.GetCurrentHashAsUInt32();
    }

    [GeneratedRegex(@"^SeqSharp CRC-32 (?<crc>[0-9a-f]{8}) of (?<length>[0-9]{1,18}) bytes after this 512-byte block\n$", RegexOptions.CultureInvariant)]
    private static partial Regex LinePattern();
}
