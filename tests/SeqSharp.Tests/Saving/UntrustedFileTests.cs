using System.Diagnostics;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using System.Text.Json.Nodes;
using SeqSharp.Saving;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;

namespace SeqSharp.Tests.Saving;

/// <summary>
/// Crafted model files cannot exhaust the machine or run code: declared shapes are checked against the
/// stored ones before anything is allocated, zip entries are bounded before they are expanded, and
/// Python bytecode is refused. Peak memory is measured in child processes.
/// </summary>
public class UntrustedFileTests(ITestOutputHelper output)
{
    /// <summary>Growth of resident memory that any of these refusals must stay under (the files below would need gigabytes).</summary>
    private const long LittleMemory = 200L << 20;

    private static string Saved(TempFolder folder, string name = "good.keras")
    {
        var path = folder.File(name);
        var model = SaveWeightsTests.Mixed(60);
        model.Compile(optimizer: "adam", loss: "mse");
        model.Save(path);
        return path;
    }

    /// <summary>A copy of a .keras file with config.json rewritten.</summary>
    private static string EditedConfig(TempFolder folder, string source, string name, Func<JsonNode, JsonNode> edit)
    {
        var path = folder.File(name);
        File.Copy(source, path, overwrite: true);
        using var archive = ZipFile.Open(path, ZipArchiveMode.Update);
        var old = archive.GetEntry(KerasArchive.ConfigEntry)!;
        JsonNode config;
        using (var stream = old.Open())
            config = JsonNode.Parse(stream)!;
        old.Delete();
        using var writer = new StreamWriter(archive.CreateEntry(KerasArchive.ConfigEntry, CompressionLevel.NoCompression).Open());
        writer.Write(edit(config).ToJsonString());
        return path;
    }

    private static JsonNode Layer(JsonNode config, string name) =>
        config["config"]!["layers"]!.AsArray().Single(l => (string?)l!["config"]!["name"] == name)!;

    /// <summary>The environment variable that gives <see cref="LoadInChild"/> the file to load.</summary>
    private const string ChildPathVariable = "SEQSHARP_TEST_LOAD_PATH";

    /// <summary>The child's side: loads a model file and reports the outcome and the growth of peak resident memory.</summary>
    [ChildScenario]
    internal static void LoadInChild()
    {
        using (var warm = zeros(4))
            _ = warm.sum().item<float>();   // LibTorch loaded before the baseline
        GC.Collect();
        long baseline = StatusBytes("VmRSS:");
        var clock = Stopwatch.StartNew();
        string result;
        try
        {
            using var model = Sequential.Load(Environment.GetEnvironmentVariable(ChildPathVariable)!);
            result = "loaded";
        }
        catch (Exception e)
        {
            result = $"{e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}";
        }
        Console.WriteLine($"RESULT {result}");
        Console.WriteLine($"GROWTH {StatusBytes("VmHWM:") - baseline}");
        Console.WriteLine($"SECONDS {clock.Elapsed.TotalSeconds:F2}");
    }

    /// <summary>A size from /proc/self/status (VmRSS resident now, VmHWM peak resident), bytes.</summary>
    private static long StatusBytes(string key)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(key, StringComparison.Ordinal));
        return long.Parse(line[key.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    private static string Line(ChildResult child, string key) =>
        child.Output.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith(key + " ", StringComparison.Ordinal))?[(key.Length + 1)..]
        ?? throw new Xunit.Sdk.XunitException($"The child printed no '{key}' line: {child}");

    private string LoadInChildProcess(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            // Peak memory comes from /proc; elsewhere the refusal is still checked in this process by the callers.
            output.WriteLine("Peak memory not measured: /proc/self/status is Linux only.");
            return "InvalidDataException: (not run outside Linux)";
        }
        var child = ChildProcess.Run($"{nameof(UntrustedFileTests)}.{nameof(LoadInChild)}", environment: new Dictionary<string, string> { [ChildPathVariable] = path });
        Assert.True(child.ExitCode == 0, $"The child failed: {child}");
        long growth = long.Parse(Line(child, "GROWTH"), System.Globalization.CultureInfo.InvariantCulture);
        output.WriteLine($"{Path.GetFileName(path)}: {Line(child, "RESULT")}");
        output.WriteLine($"  peak resident growth {growth / (1 << 20)} MB, {Line(child, "SECONDS")} s");
        Assert.True(growth < LittleMemory, $"Loading grew the child's peak resident memory by {growth / (1 << 20)} MB.");
        return Line(child, "RESULT");
    }

    [Fact]
    public void Load_ConfigDeclaringAHugeLstm_RefusedBeforeAllocatingWithLittleMemory()
    {
        using var folder = new TempFolder();
        var path = EditedConfig(folder, Saved(folder), "huge.keras", config =>
        {
            Layer(config, "encoder")["config"]!["units"] = 100_000_000;
            return config;
        });

        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains("huge.keras", e.Message);
        Assert.Contains("layers/lstm/cell/vars/0", e.Message);
        Assert.Contains("[3, 24]", e.Message);
        Assert.Contains("[3, 400000000]", e.Message);

        var result = LoadInChildProcess(path);
        Assert.StartsWith("InvalidDataException: ", result);
    }

    [Fact]
    public void Load_ConfigDeclaringMoreElementsThanATensorHolds_InvalidData()
    {
        using var folder = new TempFolder();
        var path = EditedConfig(folder, Saved(folder), "impossible.keras", config =>
        {
            Layer(config, "encoder")["config"]!["units"] = 4_000_000_000_000L;
            return config;
        });

        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains("impossible.keras", e.Message);
    }

    /// <summary>Raw deflate data that expands to <paramref name="megabytes"/> MiB of zeros, made without compressing them all.</summary>
    private static byte[] DeflatedZeros(int megabytes)
    {
        var zero = new byte[1 << 20];
        using var memory = new MemoryStream();
        long first, second;
        using (var deflate = new DeflateStream(memory, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            deflate.Write(zero);
            deflate.Flush();   // a sync flush: what follows starts on a byte boundary
            first = memory.Length;
            deflate.Write(zero);
            deflate.Flush();
            second = memory.Length;
        }
        var bytes = memory.ToArray();
        // The second megabyte's blocks decode to zeros after any zeros, so they can be repeated; then an empty final block.
        var repeated = bytes[(int)first..(int)second];
        var result = new byte[first + (repeated.Length * (megabytes - 1)) + 2];
        bytes.AsSpan(0, (int)first).CopyTo(result);
        for (int i = 0; i < megabytes - 1; i++)
            repeated.CopyTo(result, first + (i * repeated.Length));
        result[^2] = 0x03;
        return result;
    }

    private static uint CrcOfZeros(long bytes)
    {
        var crc = new Crc32();
        var zero = new byte[1 << 20];
        for (long left = bytes; left > 0; left -= zero.Length)
            crc.Append(zero.AsSpan(0, (int)Math.Min(zero.Length, left)));
        return crc.GetCurrentHashAsUInt32();
    }

    /// <summary>Writes a zip archive byte by byte: (name, method 0 stored or 8 deflated, data, CRC-32, size declared).</summary>
    private static void WriteZip(string path, IReadOnlyList<(string Name, ushort Method, byte[] Data, uint Crc, long Size)> entries)
    {
        using var file = new BinaryWriter(File.Create(path));
        var offsets = new List<long>();
        foreach (var (name, method, data, crc, size) in entries)
        {
            offsets.Add(file.BaseStream.Position);
            file.Write(0x04034b50u);
            file.Write((ushort)20);
            file.Write((ushort)0);
            file.Write(method);
            file.Write((ushort)0);
            file.Write((ushort)0x21);
            file.Write(crc);
            file.Write((uint)data.Length);
            file.Write((uint)size);
            file.Write((ushort)name.Length);
            file.Write((ushort)0);
            file.Write(Encoding.ASCII.GetBytes(name));
            file.Write(data);
        }
        long directory = file.BaseStream.Position;
        for (int i = 0; i < entries.Count; i++)
        {
            var (name, method, data, crc, size) = entries[i];
            file.Write(0x02014b50u);
            file.Write((ushort)20);
            file.Write((ushort)20);
            file.Write((ushort)0);
            file.Write(method);
            file.Write((ushort)0);
            file.Write((ushort)0x21);
            file.Write(crc);
            file.Write((uint)data.Length);
            file.Write((uint)size);
            file.Write((ushort)name.Length);
            file.Write((ushort)0);
            file.Write((ushort)0);
            file.Write((ushort)0);
            file.Write((ushort)0);
            file.Write(0u);
            file.Write((uint)offsets[i]);
            file.Write(Encoding.ASCII.GetBytes(name));
        }
        long end = file.BaseStream.Position;
        file.Write(0x06054b50u);
        file.Write((ushort)0);
        file.Write((ushort)0);
        file.Write((ushort)entries.Count);
        file.Write((ushort)entries.Count);
        file.Write((uint)(end - directory));
        file.Write((uint)directory);
        file.Write((ushort)0);
    }

    /// <summary>A .keras file with the good file's metadata and config, and a weights entry of deflated zeros declaring <paramref name="declaredSize"/>.</summary>
    private static string Bomb(TempFolder folder, string name, int megabytes, long declaredSize)
    {
        var good = Saved(folder);
        var entries = new List<(string, ushort, byte[], uint, long)>();
        using (var zip = ZipFile.OpenRead(good))
        {
            foreach (var entryName in new[] { KerasArchive.MetadataEntry, KerasArchive.ConfigEntry })
            {
                var entry = zip.GetEntry(entryName)!;
                using var content = new MemoryStream();
                using (var stream = entry.Open())
                    stream.CopyTo(content);
                entries.Add((entryName, 0, content.ToArray(), entry.Crc32, content.Length));
            }
        }
        entries.Add((WeightsReader.ArchiveEntry, 8, DeflatedZeros(megabytes), CrcOfZeros((long)megabytes << 20), declaredSize));
        var path = folder.File(name);
        WriteZip(path, entries);
        return path;
    }

    [Fact]
    public void DeflatedZeros_TheCraftedStream_ExpandsToTheMegabytesAsked()
    {
        // The bombs below are real: checked on a small one, read with .NET's own inflater.
        var data = DeflatedZeros(8);
        using var inflate = new DeflateStream(new MemoryStream(data), CompressionMode.Decompress);
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = inflate.Read(buffer)) > 0)
        {
            Assert.True(buffer.AsSpan(0, read).IndexOfAnyExcept((byte)0) < 0);
            total += read;
        }
        Assert.Equal(8L << 20, total);
        Assert.True(data.Length < 80_000, $"{data.Length} bytes");
    }

    [Fact]
    public void Load_WeightsEntryExpandingToHalfAGigabyteOfZeros_RefusedEarlyWithLittleMemory()
    {
        using var folder = new TempFolder();
        var path = Bomb(folder, "bomb.keras", 512, 512L << 20);
        output.WriteLine($"bomb.keras: {new FileInfo(path).Length:N0} bytes");

        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains("bomb.keras", e.Message);
        Assert.Contains("model.weights.h5 would expand", e.Message);

        Assert.StartsWith("InvalidDataException: ", LoadInChildProcess(path));
    }

    [Fact]
    public void Load_WeightsEntryExpandingPastTheSizeItsHeaderDeclares_StopsThereWithLittleMemory()
    {
        // The header lies: it declares 512 KiB (a plausible size at a plausible ratio) for 512 MiB of zeros.
        using var folder = new TempFolder();
        var path = Bomb(folder, "liar.keras", 512, 512L << 10);

        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));
        Assert.Contains("liar.keras", e.Message);
        Assert.Contains("model.weights.h5", e.Message);

        Assert.StartsWith("InvalidDataException: ", LoadInChildProcess(path));
    }

    [Fact]
    public void KerasArchive_WeightsLimit_IsDerivedFromTheDeclaredWeights()
    {
        // 4 x the weights' bytes (weights and up to 3 optimizer slots), 64 KiB per variable, 1 MiB.
        using var a = zeros(10, 20);
        using var b = zeros([5], ScalarType.Float64);
        Assert.Equal((4 * ((200 * 4) + (5 * 8))) + (2 * 65536) + (1 << 20), KerasArchive.WeightsLimit([a, b]));
    }

    private const string PythonLambda = """
        {"class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwCpAk7pAgAAAKkAqQHaAXhyAwAAAHIDAAAA+h48aXB5dGhvbi1pbnB1dC0yLWM0ZmE3ZDk1ZTlmMj7aCDxsYW1iZGE+AQAAAPMAAAAA", "defaults": null, "closure": null}}
        """;

    [Fact]
    public void Load_Keras3LambdaLayerWithPythonBytecode_RefusedNamingTheLayer()
    {
        using var folder = new TempFolder();
        var path = EditedConfig(folder, Saved(folder), "lambda.keras", config =>
        {
            var lambda = JsonNode.Parse("""
                {"module": "keras.layers", "class_name": "Lambda", "registered_name": null,
                 "config": {"name": "square", "trainable": true, "dtype": "float32", "function": null, "arguments": {}}}
                """)!;
            lambda["config"]!["function"] = JsonNode.Parse(PythonLambda);
            config["config"]!["layers"]!.AsArray().Insert(2, lambda);
            return config;
        });

        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));

        Assert.Contains("lambda.keras", e.Message);
        Assert.Contains("Lambda layer 'square' holds its function as Python bytecode", e.Message);
        Assert.Contains("never runs", e.Message);
    }

    [Fact]
    public void Load_Keras2LambdaLayerWithPythonBytecode_RefusedNamingTheLayer()
    {
        using var folder = new TempFolder();
        var path = EditedConfig(folder, Saved(folder), "lambda2.keras", config =>
        {
            var lambda = JsonNode.Parse("""
                {"class_name": "Lambda",
                 "config": {"name": "lambda_1", "trainable": true, "function": ["4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwCpAk4=", null, null],
                            "function_type": "lambda", "module": "__main__", "output_shape": null, "output_shape_type": "raw", "arguments": {}}}
                """)!;
            config["config"]!["layers"]!.AsArray().Insert(2, lambda);
            return config;
        });

        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));

        Assert.Contains("Lambda layer 'lambda_1' holds its function as Python bytecode", e.Message);
    }

    [Fact]
    public void Load_LambdaOutputShapeAsPythonBytecode_RefusedNamingTheLayer()
    {
        // tf.keras 2 also serializes a lambda given as output_shape; the scan of the whole config refuses it.
        using var folder = new TempFolder();
        var path = EditedConfig(folder, Saved(folder), "shape.keras", config =>
        {
            var lambda = JsonNode.Parse("""
                {"class_name": "Lambda",
                 "config": {"name": "lambda_2", "trainable": true, "function": "times400", "function_type": "function", "module": "__main__",
                            "output_shape": ["4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwCpAk4=", null, null], "output_shape_type": "lambda", "arguments": {}}}
                """)!;
            config["config"]!["layers"]!.AsArray().Insert(2, lambda);
            return config;
        });

        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));

        Assert.Contains("layer 'lambda_2' (Lambda) holds a Python lambda serialized as bytecode", e.Message);
    }

    [Fact]
    public void Load_LossGivenAsAPythonLambda_Refused()
    {
        using var folder = new TempFolder();
        var path = EditedConfig(folder, Saved(folder), "loss.keras", config =>
        {
            config["compile_config"]!["loss"] = JsonNode.Parse(PythonLambda);
            return config;
        });

        var e = Assert.Throws<InvalidDataException>(() => Sequential.Load(path));

        Assert.Contains("compile_config holds a Python lambda serialized as bytecode", e.Message);
        using var uncompiled = Sequential.Load(path, compile: false);   // compile: false never reads it, as in Keras
    }
}
