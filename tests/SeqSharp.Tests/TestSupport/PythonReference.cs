using System.Diagnostics;
using System.Text.Json;

namespace SeqSharp.Tests.TestSupport;

/// <summary>
/// Runs tests/reference/keras_reference.py (the independent float64 Keras reader on h5py and numpy)
/// with Debian's /usr/bin/python3. The suite does not need it: only the tests that prove h5py can
/// read SeqSharp's own files use it, and they are skipped, with the reason, where it is missing.
/// </summary>
internal static class PythonReference
{
    private const string Python = "/usr/bin/python3";

    private static readonly Lazy<string?> Missing = new(FindMissing);

    /// <summary>Why the reference cannot run here, or null when it can.</summary>
    public static string? WhyUnavailable => Missing.Value;

    public static string Script => Path.Combine(AppContext.BaseDirectory, "Reference", "keras_reference.py");

    /// <summary>The reference's output for <paramref name="model"/> on <paramref name="input"/> (float64).</summary>
    public static Tensor Predict(string model, Tensor input)
    {
        var folder = Path.GetDirectoryName(model)!;
        var inputPath = Path.Combine(folder, "reference-input.json");
        var outputPath = Path.Combine(folder, "reference-output.json");
        var values = input.to_type(ScalarType.Float64).contiguous();
        File.WriteAllText(inputPath, JsonSerializer.Serialize(new { input = Nest(values.data<double>().ToArray(), values.shape) }));
        var (code, stdout, stderr) = Run(Script, model, "--input", inputPath, "--out", outputPath);
        Assert.True(code == 0, $"keras_reference.py failed with exit code {code}:\n{stdout}\n{stderr}");
        using var json = JsonDocument.Parse(File.ReadAllText(outputPath));
        var root = json.RootElement;
        static IEnumerable<double> Flat(JsonElement e) => e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().SelectMany(Flat) : [e.GetDouble()];
        var shape = root.GetProperty("output_shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        return tensor(Flat(root.GetProperty("output")).ToArray(), shape, ScalarType.Float64);
    }

    /// <summary>The reference's outputs for a functional <paramref name="model"/> on <paramref name="inputs"/> (in the model's input order), float64.</summary>
    public static IReadOnlyList<Tensor> PredictFunctional(string model, IReadOnlyList<Tensor> inputs)
    {
        var folder = Path.GetDirectoryName(model)!;
        var inputPath = Path.Combine(folder, "reference-inputs.json");
        var outputPath = Path.Combine(folder, "reference-outputs.json");
        var nested = inputs.Select(x =>
        {
            var values = x.to_type(ScalarType.Float64).contiguous();
            return Nest(values.data<double>().ToArray(), values.shape);
        }).ToArray();
        File.WriteAllText(inputPath, JsonSerializer.Serialize(new { inputs = nested }));
        var (code, stdout, stderr) = Run(Script, model, "--input", inputPath, "--out", outputPath);
        Assert.True(code == 0, $"keras_reference.py failed with exit code {code}:\n{stdout}\n{stderr}");
        using var json = JsonDocument.Parse(File.ReadAllText(outputPath));
        var root = json.RootElement;
        static IEnumerable<double> Flat(JsonElement e) => e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().SelectMany(Flat) : [e.GetDouble()];
        return root.GetProperty("outputs").EnumerateArray().Zip(root.GetProperty("output_shapes").EnumerateArray())
            .Select(p => tensor(Flat(p.First).ToArray(), p.Second.EnumerateArray().Select(v => v.GetInt64()).ToArray(), ScalarType.Float64))
            .ToList();
    }

    private static object Nest(double[] flat, long[] shape)
    {
        if (shape.Length == 1)
            return flat;
        long inner = shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        return Enumerable.Range(0, (int)shape[0]).Select(i => Nest(flat.Skip((int)(i * inner)).Take((int)inner).ToArray(), shape[1..])).ToArray();
    }

    private static string? FindMissing()
    {
        if (!File.Exists(Python))
            return $"{Python} does not exist (install Debian's python3-h5py and python3-numpy to run this test).";
        try
        {
            var (code, _, stderr) = Run("-c", "import h5py, numpy");
            return code == 0 ? null : $"{Python} cannot import h5py and numpy (apt-get install python3-h5py python3-numpy): {stderr.Trim()}";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return $"{Python} cannot be started: {e.Message}";
        }
    }

    private static (int Code, string Stdout, string Stderr) Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr);
    }
}

/// <summary>A fact that needs /usr/bin/python3 with h5py and numpy; skipped, saying why, where they are missing.</summary>
internal sealed class PythonH5pyFactAttribute : FactAttribute
{
    public PythonH5pyFactAttribute()
    {
        if (PythonReference.WhyUnavailable is { } why)
            Skip = why;
    }
}
