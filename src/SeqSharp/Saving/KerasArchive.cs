using System.IO.Compression;
using System.Text;
using PureHDF;

namespace SeqSharp.Saving;

/// <summary>
/// The <c>.keras</c> zip archive of Keras 3's <c>saving_lib</c>: <c>metadata.json</c>,
/// <c>config.json</c> and <c>model.weights.h5</c>, in that order, stored uncompressed as Keras stores them.
/// </summary>
internal static class KerasArchive
{
    /// <summary>The model config entry.</summary>
    public const string ConfigEntry = "config.json";

    /// <summary>The metadata entry (Keras version, date saved).</summary>
    public const string MetadataEntry = "metadata.json";

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

    /// <summary>Reads the config text and the weights file (in memory, seekable) of an archive.</summary>
    /// <exception cref="InvalidDataException">Not a zip archive, a damaged one, or one without config.json or model.weights.h5.</exception>
    public static (string Config, MemoryStream Weights) Read(string path)
    {
        ZipArchive archive;
        try
        {
            archive = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException(
                $"'{path}' is not a Keras model file: expected a .keras zip archive with config.json and model.weights.h5, but it is not a readable zip archive ({e.Message})", e);
        }
        using (archive)
        {
            var names = archive.Entries.Select(e => e.FullName).ToList();
            var config = archive.GetEntry(ConfigEntry) ?? throw Missing(path, ConfigEntry, names);
            var weights = archive.GetEntry(WeightsReader.ArchiveEntry) ?? throw Missing(path, WeightsReader.ArchiveEntry, names);
            var memory = new MemoryStream();
            try
            {
                string text;
                using (var reader = new StreamReader(config.Open(), Encoding.UTF8))
                    text = reader.ReadToEnd();
                using (var source = weights.Open())
                    source.CopyTo(memory);
                memory.Position = 0;
                return (text, memory);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                memory.Dispose();
                throw new InvalidDataException($"'{path}' is a damaged zip archive: {e.Message}", e);
            }
        }
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
