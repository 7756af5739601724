using System.IO.Compression;
using System.Text;
using PureHDF;
using SeqSharp.Saving;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;

namespace SeqSharp.Tests.Saving;

/// <summary>
/// Model files whose bytes changed are refused: every .keras entry's CRC-32 and the CRC-32 in the user
/// block of a .weights.h5 are checked, so a flipped bit gives an <see cref="InvalidDataException"/> or
/// (where the bit changes nothing that is read) identical weights, never different weights.
/// </summary>
public class FileIntegrityTests(ITestOutputHelper output)
{
    /// <summary>A small compiled model with optimizer state from two training steps.</summary>
    private static Sequential Trained(int seed)
    {
        var model = SaveWeightsTests.Mixed(seed);
        model.Compile(optimizer: "adam", loss: "mse");
        manual_seed(seed);
        model.Fit(randn(4, 5, 3), randn(4, 2), batchSize: 2, epochs: 1, verbose: 0, shuffle: false);
        return model;
    }

    private static List<Tensor> State(Sequential model) => [.. model.GetWeights(), .. model.Optimizer?.Variables ?? []];

    private static bool Same(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.dtype == p.Second.dtype && p.First.shape.SequenceEqual(p.Second.shape) && p.First.eq(p.Second).all().item<bool>());

    private static byte[] Flipped(byte[] bytes, long position, int bit)
    {
        var copy = (byte[])bytes.Clone();
        copy[position] ^= (byte)(1 << bit);
        return copy;
    }

    [Fact]
    public void ZipArchive_ChangedEntryBytes_NotDetectedBySystemIoCompression()
    {
        // Why SeqSharp checks the CRC-32 itself: .NET reads a damaged stored entry without complaint.
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        Trained(40).Save(path);
        var bytes = File.ReadAllBytes(path);
        int at = Encoding.ASCII.GetString(bytes).IndexOf("\"units\":6", StringComparison.Ordinal);
        Assert.True(at > 0);
        var damaged = Flipped(bytes, at + 8, 0);   // "units":6 -> "units":7

        using var zip = new ZipArchive(new MemoryStream(damaged), ZipArchiveMode.Read);
        using var reader = new StreamReader(zip.GetEntry("config.json")!.Open());
        Assert.Contains("\"units\":7", reader.ReadToEnd());
    }

    [Fact]
    public void Load_ConfigEntryWithAChangedByte_RefusedByItsCrc()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.keras");
        Trained(41).Save(path);
        var bytes = File.ReadAllBytes(path);
        int at = Encoding.ASCII.GetString(bytes).IndexOf("\"units\":6", StringComparison.Ordinal);
        File.WriteAllBytes(path, Flipped(bytes, at + 8, 0));

        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));

        Assert.Contains("m.keras", e.Message);
        Assert.Contains("config.json fails its CRC-32 check", e.Message);
    }

    [Fact]
    public void SaveWeights_File_StartsWithTheChecksumUserBlockAndIsPlainHdf5()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.weights.h5");
        var model = Trained(42);
        model.SaveWeights(path);
        var bytes = File.ReadAllBytes(path);

        string line = Encoding.ASCII.GetString(bytes, 0, Array.IndexOf(bytes, (byte)'\n') + 1);
        Assert.Matches(@"^SeqSharp CRC-32 [0-9a-f]{8} of [0-9]+ bytes after this 512-byte block\n$", line);
        Assert.Equal(new byte[] { 0x89, (byte)'H', (byte)'D', (byte)'F', 0x0d, 0x0a, 0x1a, 0x0a }, bytes[512..520]);
        // The CRC-32 of the HDF5 data, computed here independently of the writer.
        var crc = System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(512));
        Assert.Contains($" {crc:x8} of {bytes.Length - 512} bytes", line);
        // An HDF5 reader that knows nothing of SeqSharp skips the user block.
        Assert.Contains("D layers/dense/vars/0 [3, 5] FloatingPoint 4", SaveWeightsTests.Inventory(path));
    }

    [Fact]
    public void LoadWeights_DataWithAChangedByte_RefusedByTheChecksumModelUnchanged()
    {
        using var folder = new TempFolder();
        var path = folder.File("m.weights.h5");
        Trained(43).SaveWeights(path);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, Flipped(bytes, bytes.Length - 3, 5));
        var target = Trained(44);
        var before = State(target).Select(t => t.clone()).ToList();

        var e = Assert.Throws<InvalidDataException>(() => target.LoadWeights(path));

        Assert.Contains("m.weights.h5' fails its CRC-32 check", e.Message);
        Assert.True(Same(before, State(target)));
    }

    [Fact]
    public void LoadWeights_KerasFileWithoutUserBlock_StillLoads()
    {
        // Files of other writers (Keras, h5py) have no user block and no checksum: read as before.
        using var folder = new TempFolder();
        var path = folder.File("plain.weights.h5");
        var source = Trained(45);
        WeightsWriter.Build(WeightsLayout.Of(source).Select(g => (g.Path, g.Name, (IReadOnlyList<Tensor>)g.Variables.Cast<Tensor>().ToList()))).Write(path);
        Assert.Equal((byte)0x89, File.ReadAllBytes(path)[0]);
        var model = SaveWeightsTests.Mixed(46);

        model.LoadWeights(path);

        Assert.True(Same(source.GetWeights(), model.GetWeights()));
    }

    /// <summary>
    /// The fuzz test of issue 10: one bit flipped at 240 positions spread over the file, and the file cut
    /// at 60 lengths. Every flip is refused or loads the same weights and optimizer state; every cut is refused.
    /// </summary>
    [Fact]
    public void Load_KerasFileWithAnyBitFlippedOrCut_RefusedOrIdentical()
    {
        using var folder = new TempFolder();
        var clean = folder.File("clean.keras");
        Trained(47).Save(clean);
        var bytes = File.ReadAllBytes(clean);
        var expected = State(Sequential.Load(clean));
        var path = folder.File("fuzz.keras");

        var (refused, identical) = (0, 0);
        for (int i = 0; i < 240; i++)
        {
            long position = (long)i * bytes.Length / 240;
            File.WriteAllBytes(path, Flipped(bytes, position, i % 8));
            try
            {
                using var loaded = Sequential.Load(path);
                Assert.True(Same(expected, State(loaded)), $"bit {i % 8} of byte {position} flipped: loaded different weights or optimizer state");
                identical++;
            }
            catch (InvalidDataException e)
            {
                Assert.Contains("fuzz.keras", e.Message);
                refused++;
            }
        }
        for (int i = 0; i < 60; i++)
        {
            long length = (long)i * bytes.Length / 60;
            File.WriteAllBytes(path, bytes[..(int)length]);
            var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
            Assert.Contains("fuzz.keras", e.Message);
        }
        output.WriteLine($".keras of {bytes.Length} bytes: 240 flips, {refused} refused, {identical} loaded identical weights; 60 cuts refused.");
        Assert.True(refused > 200, $"only {refused} of 240 flips were refused");
    }

    /// <inheritdoc cref="Load_KerasFileWithAnyBitFlippedOrCut_RefusedOrIdentical"/>
    [Fact]
    public void LoadWeights_WeightsFileWithAnyBitFlippedOrCut_RefusedModelUnchangedOrIdentical()
    {
        using var folder = new TempFolder();
        var clean = folder.File("clean.weights.h5");
        var source = Trained(48);
        source.SaveWeights(clean);
        var bytes = File.ReadAllBytes(clean);
        var expected = State(source);
        var path = folder.File("fuzz.weights.h5");
        var target = Trained(49);

        var (refused, identical) = (0, 0);
        for (int i = 0; i < 240; i++)
        {
            long position = (long)i * bytes.Length / 240;
            File.WriteAllBytes(path, Flipped(bytes, position, i % 8));
            var before = State(target).Select(t => t.clone()).ToList();
            try
            {
                target.LoadWeights(path);
                Assert.True(Same(expected, State(target)), $"bit {i % 8} of byte {position} flipped: loaded different weights or optimizer state");
                identical++;
            }
            catch (InvalidDataException e)
            {
                Assert.Contains("fuzz.weights.h5", e.Message);
                Assert.True(Same(before, State(target)), $"bit {i % 8} of byte {position} flipped: refused, but the model changed");
                refused++;
            }
        }
        for (int i = 0; i < 60; i++)
        {
            long length = (long)i * bytes.Length / 60;
            File.WriteAllBytes(path, bytes[..(int)length]);
            var e = Assert.Throws<InvalidDataException>(() => target.LoadWeights(path));
            Assert.Contains("fuzz.weights.h5", e.Message);
        }
        output.WriteLine($".weights.h5 of {bytes.Length} bytes: 240 flips, {refused} refused, {identical} loaded identical weights; 60 cuts refused.");
        Assert.True(refused > 200, $"only {refused} of 240 flips were refused");
    }
}
