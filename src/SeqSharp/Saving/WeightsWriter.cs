using PureHDF;
using static TorchSharp.torch;

namespace SeqSharp.Saving;

/// <summary>
/// Writes <c>vars</c> groups to an HDF5 file as Keras 3 does: each <c>&lt;path&gt;/vars</c> group carries
/// the string attribute <c>name</c> and one dataset per variable, named <c>0</c>, <c>1</c>, ..., in the
/// variable's own shape and element type.
/// </summary>
internal static class WeightsWriter
{
    /// <summary>
    /// Writes the file through a temporary file in the same folder (<see cref="AtomicFile"/>): a
    /// crash never leaves a half-written file where a good one was. The file starts with a 512-byte
    /// HDF5 user block holding the CRC-32 of the rest (<see cref="WeightsChecksum"/>).
    /// </summary>
    /// <param name="path">The destination; its folder must exist.</param>
    /// <param name="groups">Each group's path (<c>""</c> for the root), name attribute and values (CPU or not, any of float32, float64, int64).</param>
    public static void Write(string path, IEnumerable<(string Path, string Name, IReadOnlyList<Tensor> Values)> groups)
    {
        var file = Build(groups);
        AtomicFile.Write(path, stream =>
        {
            file.Write(stream, new H5WriteOptions(UserBlockSize: WeightsChecksum.BlockSize));
            WeightsChecksum.Stamp(stream);
        });
    }

    /// <summary>The HDF5 file of the groups, in memory.</summary>
    /// <param name="groups">As for <see cref="Write"/>.</param>
    public static H5File Build(IEnumerable<(string Path, string Name, IReadOnlyList<Tensor> Values)> groups)
    {
        var file = new H5File();
        foreach (var (groupPath, name, values) in groups)
        {
            var vars = new H5Group { Attributes = new() { ["name"] = name } };
            for (int i = 0; i < values.Count; i++)
                vars[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = ToDataset(values[i]);
            Parent(file, groupPath)["vars"] = vars;
        }
        return file;
    }

    /// <summary>The group at <paramref name="path"/> (slash-separated), creating the missing ones.</summary>
    internal static H5Group Parent(H5Group root, string path)
    {
        var group = root;
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!group.TryGetValue(part, out var child))
                group[part] = child = new H5Group();
            group = (H5Group)child;
        }
        return group;
    }

    /// <summary>A tensor as an HDF5 dataset of its shape (float32, float64 or int64).</summary>
    internal static H5Dataset ToDataset(Tensor value)
    {
        using var cpu = value.detach().cpu().contiguous();
        var dims = cpu.shape.Select(d => (ulong)d).ToArray();
        object data = cpu.dtype switch
        {
            ScalarType.Float32 => cpu.data<float>().ToArray(),
            ScalarType.Float64 => cpu.data<double>().ToArray(),
            ScalarType.Int64 => cpu.data<long>().ToArray(),
            _ => throw new NotSupportedException($"Cannot save a tensor of type {cpu.dtype}: expected Float32, Float64 or Int64."),
        };
        return new H5Dataset(data, fileDims: dims);
    }
}
