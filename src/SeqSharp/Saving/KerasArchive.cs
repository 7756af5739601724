using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using PureHDF;
using static TorchSharp.torch;

namespace SeqSharp.Saving;

/// <summary>
/// The <c>.keras</c> zip archive of Keras 3's <c>saving_lib</c>: <c>metadata.json</c>,
/// <c>config.json</c> and <c>model.weights.h5</c>, in that order, stored uncompressed as Keras stores them.
/// </summary>
/// <remarks>
/// Reading trusts nothing in the file. Every entry's CRC-32 is checked (System.IO.Compression does not
/// check it), and so is its size against the size its header declares. Before an entry is expanded,
/// its declared size is checked against a ratio to its compressed size and against a cap: the text
/// entries against <see cref="MaxTextEntryBytes"/>, the weights against a cap derived from the model
/// that config.json declares (<see cref="WeightsLimit"/>). No entry is read past its cap, so a small
/// archive that expands to gigabytes is refused having used little memory.
/// </remarks>
internal sealed class KerasArchive : IDisposable
{
    /// <summary>The model config entry.</summary>
    public const string ConfigEntry = "config.json";

    /// <summary>The metadata entry (Keras version, date saved).</summary>
    public const string MetadataEntry = "metadata.json";

    /// <summary>
    /// The most an entry may expand relative to its compressed size. Keras stores entries uncompressed
    /// (1:1); model weights deflate to about 1:1.1 and JSON to about 1:10, while a zip bomb of zeros
    /// reaches 1:1000.
    /// </summary>
    public const long MaxExpansionRatio = 100;

    /// <summary>The most config.json, metadata.json or any other entry but the weights may hold: 64 MiB.</summary>
    public const long MaxTextEntryBytes = 64L << 20;

    private readonly ZipArchive _zip;
    private readonly string _path;

    private KerasArchive(ZipArchive zip, string path, string config)
    {
        _zip = zip;
        _path = path;
        Config = config;
    }

    /// <summary>The text of config.json, checked.</summary>
    public string Config { get; }

    /// <summary>Writes the archive atomically (see <see cref="AtomicFile"/>).</summary>
    public static void Write(string path, string config, string metadata, H5File weights)
    {
        using var h5 = new MemoryStream();
        weights.Write(h5);
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            WriteEntry(zip, MetadataEntry, Encoding.UTF8.GetBytes(metadata));
            WriteEntry(zip, ConfigEntry, Encoding.UTF8.GetBytes(config));
            WriteEntry(zip, WeightsReader.ArchiveEntry, h5.ToArray());
        });
    }

    /// <summary>
    /// Opens an archive and reads and checks every entry except the weights: declared sizes, ratios,
    /// CRC-32. The weights are read by <see cref="ReadWeights"/>, once their cap is known.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a zip archive, a damaged one, one without config.json or model.weights.h5, or an entry too large.</exception>
    public static KerasArchive Open(string path)
    {
        ZipArchive zip;
        try
        {
            zip = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException(
                $"'{path}' is not a Keras model file: expected a .keras zip archive with config.json and model.weights.h5, but it is not a readable zip archive ({e.Message})", e);
        }
        try
        {
            var names = zip.Entries.Select(e => e.FullName).ToList();
            var configEntry = zip.GetEntry(ConfigEntry) ?? throw Missing(path, ConfigEntry, names);
            _ = zip.GetEntry(WeightsReader.ArchiveEntry) ?? throw Missing(path, WeightsReader.ArchiveEntry, names);
            string config = "";
            foreach (var entry in zip.Entries.Where(e => e.FullName != WeightsReader.ArchiveEntry))
            {
                using var content = new MemoryStream();
                Copy(path, entry, entry == configEntry ? content : Stream.Null, MaxTextEntryBytes, "an entry other than the weights");
                if (entry == configEntry)
                    config = Encoding.UTF8.GetString(content.GetBuffer(), 0, (int)content.Length);
            }
            return new KerasArchive(zip, path, config);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The cap on the weights file of a model with these weights: room for the weights and up to three
    /// optimizer variables per weight (Adam with AMSGrad), plus HDF5's structures (generously 64 KiB per
    /// variable and 1 MiB in all).
    /// </summary>
    /// <param name="weights">The model's weights (their shapes and element types are used; placeholders will do).</param>
    public static long WeightsLimit(IEnumerable<Tensor> weights)
    {
        long bytes = 0, count = 0;
        foreach (var w in weights)
        {
            bytes = checked(bytes + w.numel() * w.element_size());
            count++;
        }
        return checked((4 * bytes) + (1L << 20) + (count * (64L << 10)));
    }

    /// <summary>Reads model.weights.h5 into memory, refusing it past <paramref name="limit"/> bytes; checks its CRC-32.</summary>
    /// <param name="limit">The most the entry may expand to (see <see cref="WeightsLimit"/>).</param>
    /// <param name="why">What the limit comes from, for the message.</param>
    /// <exception cref="InvalidDataException">The entry is damaged, larger than its header says, or past the limit.</exception>
    public MemoryStream ReadWeights(long limit, string why)
    {
        var entry = _zip.GetEntry(WeightsReader.ArchiveEntry)!;
        CheckDeclaredSize(_path, entry, limit, why);
        var memory = new MemoryStream((int)Math.Min(entry.Length, Array.MaxLength));
        try
        {
            Copy(_path, entry, memory, limit, why);
            memory.Position = 0;
            return memory;
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _zip.Dispose();

    /// <summary>Refuses an entry whose header declares more than the limit, or a ratio past <see cref="MaxExpansionRatio"/>.</summary>
    private static void CheckDeclaredSize(string path, ZipArchiveEntry entry, long limit, string why)
    {
        if (entry.Length > limit)
            throw new InvalidDataException(
                $"'{path}': the entry {entry.FullName} would expand to {entry.Length:N0} bytes, more than the {limit:N0} bytes allowed for {why}. Refused before reading it.");
        if (entry.Length > MaxExpansionRatio * Math.Max(entry.CompressedLength, 1))
            throw new InvalidDataException(
                $"'{path}': the entry {entry.FullName} would expand from {entry.CompressedLength:N0} to {entry.Length:N0} bytes, a ratio over {MaxExpansionRatio}:1 " +
                "that no model file reaches (a zip bomb?). Refused before reading it.");
    }

    /// <summary>
    /// Copies an entry, checking its declared size and ratio first, then its actual size against the
    /// declared one (never reading past it) and its CRC-32.
    /// </summary>
    private static void Copy(string path, ZipArchiveEntry entry, Stream destination, long limit, string why)
    {
        CheckDeclaredSize(path, entry, limit, why);
        var crc = new Crc32();
        var buffer = new byte[81920];
        long total = 0;
        try
        {
            using var source = entry.Open();
            int read;
            while ((read = source.Read(buffer, 0, (int)Math.Min(buffer.Length, entry.Length - total + 1))) > 0)
            {
                total += read;
                if (total > entry.Length)
                    throw new InvalidDataException(
                        $"'{path}': the entry {entry.FullName} holds more than the {entry.Length:N0} bytes its header declares: the file is damaged.");
                crc.Append(buffer.AsSpan(0, read));
                destination.Write(buffer, 0, read);
            }
        }
        catch (Exception e) when (e is (InvalidDataException or IOException or NotSupportedException) && !e.Message.StartsWith($"'{path}'", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"'{path}' is a damaged zip archive: the entry {entry.FullName} cannot be read ({e.Message})", e);
        }
        if (total != entry.Length)
            throw new InvalidDataException(
                $"'{path}': the entry {entry.FullName} holds {total:N0} bytes where its header declares {entry.Length:N0}: the file is truncated or damaged.");
        uint computed = crc.GetCurrentHashAsUInt32();
        if (computed != entry.Crc32)
            throw new InvalidDataException(
                $"'{path}': the entry {entry.FullName} fails its CRC-32 check (stored {entry.Crc32:x8}, computed {computed:x8}): the file is damaged.");
    }

    private static void WriteEntry(ZipArchive zip, string name, byte[] content)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
        using var stream = entry.Open();
        stream.Write(content);
    }

    private static InvalidDataException Missing(string path, string entry, IReadOnlyList<string> names) =>
        new($"'{path}' holds no {entry}: it is not a Keras model file (expected config.json, metadata.json and model.weights.h5; found {(names.Count == 0 ? "no entries" : string.Join(", ", names))}).");
}
