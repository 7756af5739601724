using System.Globalization;
using Microsoft.Win32.SafeHandles;
using System.Text;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace SeqSharp.Data;

/// <summary>
/// A numpy <c>.npy</c> file opened without loading it (numpy's <c>np.load(path, mmap_mode="r")</c>):
/// nothing is read until rows are asked for, so files larger than memory can feed training a batch
/// at a time, and each process of a data-parallel run reads only the rows it uses.
/// <see cref="Read"/> copies rows with positional file reads (the process's memory grows by the rows
/// read, not by the file); <see cref="AsTensor"/> maps the whole array into a tensor without copying.
/// </summary>
/// <remarks>
/// <para>Reads format versions 1.0, 2.0 and 3.0 (numpy's <c>format.py</c>): the magic <c>\x93NUMPY</c>,
/// a header dictionary with <c>descr</c>, <c>fortran_order</c> and <c>shape</c>, then the data in C order.
/// Element types: little-endian <c>f2</c> (read as float32), <c>f4</c>, <c>f8</c>, <c>i1</c>, <c>u1</c>, <c>i2</c>,
/// <c>i4</c>, <c>i8</c> and <c>b1</c>. Fortran order, big-endian data and object or structured arrays are
/// refused with <see cref="InvalidDataException"/>.</para>
/// <para>No NuGet library memory-maps <c>.npy</c> files (NumSharp's <c>np.load</c> reads the whole array), so
/// this small reader does.</para>
/// </remarks>
/// <example>
/// <code>
/// using var series = NpyArray.Open("series.npy");       // shape (1_000_000_000, 8), float32, never loaded whole
/// Tensor rows = series.Read(start: 5000, count: 200);    // (200, 8)
/// </code>
/// </example>
public sealed partial class NpyArray : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly long _dataOffset;
    private readonly int _itemSize;
    private readonly char _kind;

    private NpyArray(string path, SafeFileHandle file, long dataOffset, long[] shape, char kind, int itemSize)
    {
        Path = path;
        _file = file;
        _dataOffset = dataOffset;
        Shape = shape;
        _kind = kind;
        _itemSize = itemSize;
        DType = (kind, itemSize) switch
        {
            ('f', 2) or ('f', 4) => ScalarType.Float32,
            ('f', 8) => ScalarType.Float64,
            ('i', 1) => ScalarType.Int8,
            ('u', 1) => ScalarType.Byte,
            ('i', 2) => ScalarType.Int16,
            ('i', 4) => ScalarType.Int32,
            ('i', 8) => ScalarType.Int64,
            ('b', 1) => ScalarType.Bool,
            _ => throw new InvalidOperationException(),
        };
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The array's shape; the first axis is the one <see cref="Read"/> slices.</summary>
    public long[] Shape { get; }

    /// <summary>The dtype of the tensors <see cref="Read"/> returns (float16 files are widened to float32).</summary>
    public ScalarType DType { get; }

    /// <summary>The number of rows (the first axis; 1 for a scalar).</summary>
    public long Count => Shape.Length == 0 ? 1 : Shape[0];

    /// <summary>Elements per row.</summary>
    public long RowElements => Shape.Skip(1).Aggregate(1L, (a, b) => a * b);

    /// <summary>Opens a <c>.npy</c> file read-only, by memory mapping.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a <c>.npy</c> file, a layout or element type this reader does not take, or a file shorter than its header says; the message says which.</exception>
    public static NpyArray Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No .npy file at '{path}'.", path);
        long length = new FileInfo(path).Length;
        byte[] prefix = new byte[Math.Min(length, 65536 + 12)];
        using (var stream = File.OpenRead(path))
            stream.ReadExactly(prefix);
        if (prefix.Length < 10 || prefix[0] != 0x93 || Encoding.ASCII.GetString(prefix, 1, 5) != "NUMPY")
            throw new InvalidDataException($"'{path}' is not a .npy file: it does not start with \\x93NUMPY.");
        int major = prefix[6];
        int headerLength, headerStart;
        switch (major)
        {
            case 1:
                headerLength = prefix[8] | prefix[9] << 8;
                headerStart = 10;
                break;
            case 2 or 3:
                if (prefix.Length < 12)
                    throw new InvalidDataException($"'{path}' ends inside its .npy header.");
                headerLength = prefix[8] | prefix[9] << 8 | prefix[10] << 16 | prefix[11] << 24;
                headerStart = 12;
                break;
            default:
                throw new InvalidDataException($"'{path}' is .npy format version {major}.{prefix[7]}; this reader takes versions 1.0, 2.0 and 3.0.");
        }
        if (headerLength < 0 || headerStart + (long)headerLength > prefix.Length)
            throw new InvalidDataException($"'{path}' ends inside its .npy header (header of {headerLength} bytes, file of {length}).");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(prefix, headerStart, headerLength);

        string descr = Field(header, DescrPattern(), "descr", path);
        string fortran = Field(header, FortranPattern(), "fortran_order", path);
        string shapeText = Field(header, ShapePattern(), "shape", path);
        if (fortran != "False")
            throw new InvalidDataException($"'{path}' holds a Fortran-order array; save it in C order (np.ascontiguousarray) to read it here.");
        var typeMatch = TypePattern().Match(descr);
        if (!typeMatch.Success)
            throw new InvalidDataException($"'{path}' holds elements of type '{descr}'; expected a little-endian number or bool: <f2, <f4, <f8, |i1, |u1, <i2, <i4, <i8 or |b1.");
        char order = typeMatch.Groups[1].Value[0];
        char kind = typeMatch.Groups[2].Value[0];
        int itemSize = int.Parse(typeMatch.Groups[3].Value, CultureInfo.InvariantCulture);
        bool known = (kind, itemSize) is ('f', 2) or ('f', 4) or ('f', 8) or ('i', 1) or ('u', 1) or ('i', 2) or ('i', 4) or ('i', 8) or ('b', 1);
        if (!known || order == '>' || (order == '=' && !BitConverter.IsLittleEndian))
            throw new InvalidDataException($"'{path}' holds elements of type '{descr}'; expected a little-endian number or bool: <f2, <f4, <f8, |i1, |u1, <i2, <i4, <i8 or |b1.");
        long[] shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n
                : throw new InvalidDataException($"'{path}' has a shape '({shapeText})' that is not a list of sizes.")).ToArray();
        long dataOffset = headerStart + headerLength;
        long elements = shape.Aggregate(1L, (a, b) => checked(a * b));
        long needed = checked(dataOffset + elements * itemSize);
        if (length < needed)
            throw new InvalidDataException($"'{path}' is {length} bytes long; its header declares a ({string.Join(", ", shape)}) array of {descr}, which needs {needed}.");

        var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        return new NpyArray(path, file, dataOffset, shape, kind, itemSize);
    }

    /// <summary>Rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) as a new tensor of shape <c>(count, ...)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Rows outside the array.</exception>
    /// <exception cref="ArgumentException">More than 2 GiB in one read.</exception>
    public Tensor Read(long start, long count)
    {
        if (start < 0 || count < 0 || start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(start), $"Expected rows within [0, {Count}) of '{Path}'. Received: start={start}, count={count}.");
        long[] shape = Shape.Length == 0 ? [] : [count, .. Shape.Skip(1)];
        long elements = count * RowElements;
        long offset = _dataOffset + start * RowElements * _itemSize;
        if (_kind == 'f' && _itemSize == 2)
        {
            var halves = empty(shape, ScalarType.Float16);
            CopyInto(halves, offset, elements * 2);
            return halves.to_type(ScalarType.Float32);
        }
        var result = empty(shape, DType);
        CopyInto(result, offset, elements * _itemSize);
        return result;
    }

    /// <summary>The whole array as a tensor (reads every byte: for arrays that fit in memory).</summary>
    public Tensor ReadAll() => Shape.Length == 0 ? Read(0, 1).reshape([]) : Read(0, Count);

    /// <summary>
    /// The whole array as a read-only-by-convention tensor over a private memory mapping of the file
    /// (LibTorch's <c>from_file</c>): no copy is made, pages are read when touched, and writes to the
    /// tensor never reach the file. Pages touched count in the process's resident memory until the
    /// kernel drops them; for strictly bounded memory read batches with <see cref="Read"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">A float16 file (widening needs a copy: use <see cref="Read"/>).</exception>
    public Tensor AsTensor()
    {
        if (_kind == 'f' && _itemSize == 2)
            throw new NotSupportedException($"'{Path}' holds float16 values, which AsTensor cannot widen without a copy; use Read.");
        long elements = Shape.Aggregate(1L, (a, b) => a * b);
        // numpy pads the header to a multiple of 64 bytes, so the data starts at a whole number of elements.
        if (_dataOffset % _itemSize != 0)
            throw new InvalidDataException($"'{Path}' has its data at byte {_dataOffset}, not a multiple of its element size {_itemSize}; use Read.");
        long skip = _dataOffset / _itemSize;
        using var all = from_file(Path, shared: false, size: skip + elements, dtype: DType);
        return all.narrow(0, skip, elements).reshape(Shape);
    }

    /// <summary>Writes a tensor as a <c>.npy</c> file (format 1.0, or 2.0 for a long header), as <c>np.save</c> does.</summary>
    /// <exception cref="ArgumentException">A dtype numpy's format here does not take (the message lists them).</exception>
    public static void Save(string path, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        string descr = tensor.dtype switch
        {
            ScalarType.Float32 => "<f4",
            ScalarType.Float64 => "<f8",
            ScalarType.Int8 => "|i1",
            ScalarType.Byte => "|u1",
            ScalarType.Int16 => "<i2",
            ScalarType.Int32 => "<i4",
            ScalarType.Int64 => "<i8",
            ScalarType.Bool => "|b1",
            ScalarType.Float16 => "<f2",
            _ => throw new ArgumentException($"Expected a float16/32/64, int8/16/32/64, uint8 or bool tensor. Received: {tensor.dtype}.", nameof(tensor)),
        };
        string dims = tensor.dim() == 1 ? $"{tensor.shape[0]}," : string.Join(", ", tensor.shape);
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int unpadded = 10 + dict.Length + 1;
        bool v2 = unpadded + 63 > ushort.MaxValue;
        int prefixLength = v2 ? 12 : 10;
        int total = (prefixLength + dict.Length + 1 + 63) / 64 * 64;
        string header = dict.PadRight(total - prefixLength - 1) + "\n";
        using var stream = File.Create(path);
        stream.Write([0x93, .. "NUMPY"u8, (byte)(v2 ? 2 : 1), 0]);
        if (v2)
            stream.Write(BitConverter.GetBytes(header.Length));
        else
            stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        using var contiguous = tensor.detach().cpu().contiguous();
        stream.Write(contiguous.bytes);
    }

    /// <inheritdoc/>
    public void Dispose() => _file.Dispose();

    private void CopyInto(Tensor target, long fileOffset, long bytes)
    {
        if (bytes > int.MaxValue)
            throw new ArgumentException($"Read at most 2 GiB from '{Path}' at a time; the rows asked for hold {bytes} bytes.");
        var destination = target.bytes;
        int done = 0;
        while (done < bytes)
        {
            int read = RandomAccess.Read(_file, destination[done..], fileOffset + done);
            if (read == 0)
                throw new InvalidDataException($"'{Path}' ended at byte {fileOffset + done} while reading rows; the file changed after it was opened.");
            done += read;
        }
    }

    private static string Field(string header, Regex pattern, string name, string path)
    {
        var match = pattern.Match(header);
        if (!match.Success)
            throw new InvalidDataException($"'{path}' has a .npy header without '{name}': {header.Trim()}");
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();

    [GeneratedRegex(@"^([<>|=])([fiub])(\d+)$")]
    private static partial Regex TypePattern();
}
