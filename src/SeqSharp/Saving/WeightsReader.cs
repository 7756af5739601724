using System.Globalization;
using PureHDF;
using PureHDF.VOL.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Saving;

/// <summary>One dataset of a <c>vars</c> group: its path, shape and stored element type.</summary>
/// <param name="Path">The dataset's path in the file, e.g. <c>layers/dense/vars/0</c>.</param>
/// <param name="Shape">The dataset's shape; empty for a scalar.</param>
/// <param name="Dataset">The HDF5 dataset, read by <see cref="WeightsReader.Read"/>.</param>
internal sealed record StoredVariable(string Path, long[] Shape, IH5Dataset Dataset);

/// <summary>
/// Reads the <c>vars</c> groups of a Keras 3 weights file (a <c>.weights.h5</c> file, or the
/// <c>model.weights.h5</c> inside a <c>.keras</c> archive). Every failure of the HDF5 library on a
/// truncated, corrupt or foreign file becomes an <see cref="InvalidDataException"/> naming the file.
/// </summary>
internal sealed class WeightsReader : IDisposable
{
    /// <summary>The HDF5 format signature, at offset 0 (or 512, 1024, ... after a user block).</summary>
    private static readonly byte[] Signature = [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0d, 0x0a, 0x1a, 0x0a];

    /// <summary>The name of the weights file inside a <c>.keras</c> archive.</summary>
    internal const string ArchiveEntry = "model.weights.h5";

    private readonly Stream _stream;
    private readonly NativeFile _file;

    private WeightsReader(Stream stream, NativeFile file, string source)
    {
        _stream = stream;
        _file = file;
        Source = source;
    }

    /// <summary>Where the data comes from, for messages: the file path (and the archive entry).</summary>
    public string Source { get; }

    /// <summary>Opens a <c>.weights.h5</c> (or <c>.h5</c>) file; a <c>.keras</c> archive goes through <see cref="OpenArchive"/>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not an HDF5 file, damaged (checksum), or unreadable.</exception>
    public static WeightsReader Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No weights file at '{path}'.", path);
        if (path.EndsWith(".keras", StringComparison.Ordinal))
            return OpenArchive(path, long.MaxValue, "any model");
        return Open(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read), path);
    }

    /// <summary>Opens the <c>model.weights.h5</c> inside a <c>.keras</c> archive, read into memory up to <paramref name="limit"/> bytes (see <see cref="KerasArchive"/>).</summary>
    /// <exception cref="InvalidDataException">Not a readable .keras archive, an entry damaged or past its limit, or the weights unreadable.</exception>
    public static WeightsReader OpenArchive(string path, long limit, string why)
    {
        using var archive = KerasArchive.Open(path);
        return Open(archive.ReadWeights(limit, why), $"{path} ({ArchiveEntry})");
    }

    /// <summary>Opens HDF5 data from a seekable stream, which the reader then owns.</summary>
    /// <exception cref="InvalidDataException">Not HDF5 data, or unreadable.</exception>
    public static WeightsReader Open(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            long superblock = SignatureOffset(stream);
            if (superblock < 0)
                throw new InvalidDataException(
                    stream.Length == 0
                        ? $"'{source}' is empty: expected an HDF5 weights file."
                        : $"'{source}' is not an HDF5 file (no HDF5 signature found): expected a Keras .weights.h5 file.");
            if (superblock == WeightsChecksum.BlockSize)
                WeightsChecksum.Verify(stream, source);
            stream.Position = 0;
            var file = Guard(source, () => H5File.Open(stream, leaveOpen: true));
            return new WeightsReader(stream, file, source);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The datasets of the group <paramref name="varsPath"/> (e.g. <c>layers/dense/vars</c>), in the order
    /// <c>0</c>, <c>1</c>, ...; null when the file has no such group.
    /// </summary>
    /// <exception cref="InvalidDataException">The path is not a group, holds something other than datasets named 0..n-1, or is unreadable.</exception>
    public IReadOnlyList<StoredVariable>? Vars(string varsPath) => Guard(Source, () =>
    {
        IH5Group group = _file;
        foreach (var part in varsPath.Split('/'))
        {
            if (!group.LinkExists(part))
                return null;
            group = group.Get(part) as IH5Group
                ?? throw new InvalidDataException($"'{Source}': '{varsPath}' should be a group of variables, but '{part}' is not a group.");
        }
        var datasets = new Dictionary<string, IH5Dataset>(StringComparer.Ordinal);
        foreach (var child in group.Children())
        {
            datasets[child.Name] = child as IH5Dataset
                ?? throw new InvalidDataException($"'{Source}': '{varsPath}/{child.Name}' should be a dataset, but it is a group.");
        }
        var result = new List<StoredVariable>(datasets.Count);
        for (int i = 0; i < datasets.Count; i++)
        {
            string key = i.ToString(CultureInfo.InvariantCulture);
            if (!datasets.TryGetValue(key, out var dataset))
                throw new InvalidDataException(
                    $"'{Source}': the variables in '{varsPath}' should be datasets named 0 to {datasets.Count - 1}. Found: {string.Join(", ", datasets.Keys.Order(StringComparer.Ordinal))}.");
            result.Add(new StoredVariable($"{varsPath}/{key}", ShapeOf(dataset, $"{varsPath}/{key}"), dataset));
        }
        return result;
    });

    /// <summary>
    /// The strings of an attribute of the group at <paramref name="groupPath"/> (<c>""</c> for the
    /// root): one for a scalar, several for an array, fixed- or variable-length, with trailing NULs
    /// removed. As Keras's legacy writer splits long lists over <c>name0</c>, <c>name1</c>, ..., those
    /// are joined. Null when the group or attribute does not exist.
    /// </summary>
    /// <exception cref="InvalidDataException">The attribute does not hold strings, or is unreadable.</exception>
    public IReadOnlyList<string>? StringAttribute(string groupPath, string name) => Guard<IReadOnlyList<string>?>(Source, () =>
    {
        IH5Object target = _file;
        foreach (var part in groupPath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (target is not IH5Group group || !group.LinkExists(part))
                return null;
            target = group.Get(part);
        }
        if (target.AttributeExists(name))
            return ReadStrings(target.Attribute(name), groupPath, name);
        var chunks = new List<string>();
        for (int chunk = 0; target.AttributeExists(name + chunk.ToString(CultureInfo.InvariantCulture)); chunk++)
            chunks.AddRange(ReadStrings(target.Attribute(name + chunk.ToString(CultureInfo.InvariantCulture)), groupPath, name));
        return chunks.Count == 0 ? null : chunks;
    });

    /// <summary>The dataset at a path (nested groups allowed, e.g. <c>model_weights/lstm/lstm/lstm_cell/kernel:0</c>); null when absent.</summary>
    /// <exception cref="InvalidDataException">The path names a group, or the file is unreadable.</exception>
    public StoredVariable? Dataset(string path) => Guard<StoredVariable?>(Source, () =>
    {
        IH5Group group = _file;
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < parts.Length; i++)
        {
            if (!group.LinkExists(parts[i]))
                return null;
            var child = group.Get(parts[i]);
            if (i == parts.Length - 1)
            {
                var dataset = child as IH5Dataset ?? throw new InvalidDataException($"'{Source}': '{path}' should be a dataset, but it is a group.");
                return new StoredVariable(path, ShapeOf(dataset, path), dataset);
            }
            group = child as IH5Group ?? throw new InvalidDataException($"'{Source}': '{path}' should be a dataset inside groups, but '{parts[i]}' is not a group.");
        }
        return null;
    });

    private string[] ReadStrings(IH5Attribute attribute, string groupPath, string name)
    {
        // h5py writes an empty Python list as an empty float64 array (Keras's weight_names of a
        // layer without weights): no strings, whatever the element type.
        if (attribute.Space.Type == H5DataspaceType.Simple && attribute.Space.Dimensions.Any(d => d == 0))
            return [];
        // h5py writes Python str as variable-length strings (HDF5 class VariableLength with the string
        // flag), numpy bytes arrays (Keras 2's weight names) as fixed-length strings; both in ASCII or UTF-8.
        if (attribute.Type.Class is not (H5DataTypeClass.String or H5DataTypeClass.VariableLength))
            throw new InvalidDataException($"'{Source}': attribute '{name}' of '/{groupPath}' should hold strings; it holds {attribute.Type.Class} values.");
        string[] values = attribute.Space.Type == H5DataspaceType.Scalar ? [attribute.Read<string>()] : attribute.Read<string[]>();
        return values.Select(v => (v ?? "").TrimEnd('\0')).ToArray();
    }

    /// <summary>
    /// Checks, before anything is read, that the values these datasets declare can be in the file:
    /// all of them together at most <see cref="KerasArchive.MaxExpansionRatio"/> times the file's size
    /// (HDF5 can compress datasets; Keras stores them uncompressed), and none of them a virtual dataset
    /// (values taken from other files).
    /// </summary>
    /// <exception cref="InvalidDataException">The datasets declare more than the file can hold, or refer to other files.</exception>
    public void CheckStorage(IEnumerable<StoredVariable> variables) => Guard(Source, () =>
    {
        long total = 0;
        foreach (var variable in variables)
        {
            if (variable.Dataset.Layout.Class == H5DataLayoutClass.VirtualStorage)
                throw new InvalidDataException(
                    $"'{Source}': '{variable.Path}' is a virtual dataset, whose values come from other files; SeqSharp reads only values stored in the file itself.");
            long bytes = variable.Dataset.Type.Size;
            foreach (long d in variable.Shape)
                bytes = d == 0 || bytes <= long.MaxValue / d ? bytes * d : long.MaxValue;
            total = total > long.MaxValue - bytes ? long.MaxValue : total + bytes;
        }
        long limit = _stream.Length > long.MaxValue / KerasArchive.MaxExpansionRatio ? long.MaxValue : _stream.Length * KerasArchive.MaxExpansionRatio;
        if (total > limit)
            throw new InvalidDataException(
                $"'{Source}' declares {total:N0} bytes of weights but holds only {_stream.Length:N0} bytes, more than the {KerasArchive.MaxExpansionRatio}:1 " +
                "that compressed HDF5 data can reach: the file is damaged or crafted. Refused before reading it.");
        return 0;
    });

    /// <summary>Reads a dataset as a CPU tensor of its stored shape: float32, float64 or int64.</summary>
    /// <exception cref="InvalidDataException">Not numeric, or the data cannot be read (e.g. the file is truncated).</exception>
    public Tensor Read(StoredVariable variable) => Guard(Source, () =>
    {
        var type = variable.Dataset.Type;
        long count = variable.Shape.Aggregate(1L, (a, b) => a * b);
        Tensor result = (type.Class, type.Size) switch
        {
            (H5DataTypeClass.FloatingPoint, 4) => torch.tensor(Checked(variable.Dataset.Read<float[]>(), count, variable), variable.Shape),
            (H5DataTypeClass.FloatingPoint, 8) => torch.tensor(Checked(variable.Dataset.Read<double[]>(), count, variable), variable.Shape),
            (H5DataTypeClass.FixedPoint, 8) => torch.tensor(Checked(variable.Dataset.Read<long[]>(), count, variable), variable.Shape),
            (H5DataTypeClass.FixedPoint, 4) => torch.tensor(Checked(variable.Dataset.Read<int[]>(), count, variable), variable.Shape).to_type(ScalarType.Int64),
            _ => throw new InvalidDataException(
                $"'{Source}': '{variable.Path}' holds {type.Class} values of {type.Size} bytes; expected 32- or 64-bit floating-point or integer values."),
        };
        return result;
    });

    /// <inheritdoc />
    public void Dispose()
    {
        _file.Dispose();
        _stream.Dispose();
    }

    private T[] Checked<T>(T[] values, long count, StoredVariable variable) => values.LongLength == count
        ? values
        : throw new InvalidDataException($"'{Source}': '{variable.Path}' should hold {count} values for its shape; it holds {values.LongLength}.");

    private long[] ShapeOf(IH5Dataset dataset, string path)
    {
        var space = dataset.Space;
        return space.Type switch
        {
            H5DataspaceType.Scalar => [],
            H5DataspaceType.Simple => space.Dimensions.Select(d => d <= long.MaxValue
                ? (long)d
                : throw new InvalidDataException($"'{Source}': '{path}' has an impossible size {d}.")).ToArray(),
            _ => throw new InvalidDataException($"'{Source}': '{path}' holds no data (dataspace {space.Type})."),
        };
    }

    /// <summary>Where the HDF5 signature is (0, or 512, 1024, ... after a user block); -1 when nowhere.</summary>
    private static long SignatureOffset(Stream stream)
    {
        var buffer = new byte[Signature.Length];
        for (long offset = 0; offset + Signature.Length <= stream.Length; offset = offset == 0 ? 512 : offset * 2)
        {
            stream.Position = offset;
            stream.ReadExactly(buffer);
            if (buffer.AsSpan().SequenceEqual(Signature))
                return offset;
        }
        return -1;
    }

    /// <summary>Runs a read, turning the HDF5 library's exceptions into <see cref="InvalidDataException"/>.</summary>
    private static T Guard<T>(string source, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is not (InvalidDataException or OutOfMemoryException or OperationCanceledException))
        {
            throw new InvalidDataException($"'{source}' is truncated, corrupt or not a Keras weights file: {e.GetType().Name}: {e.Message}", e);
        }
    }
}
