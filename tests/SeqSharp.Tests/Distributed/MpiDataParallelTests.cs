using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace SeqSharp.Tests.Distributed;

/// <summary>
/// A test that needs Open MPI's <c>mpirun</c>: skipped, with the reason and the install command in the
/// run's output, on a machine without it (CI installs it).
/// </summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        if (MpiDataParallelTests.Mpirun is null)
            Skip = "needs Open MPI's mpirun, which is not on PATH here; install it with: apt-get install -y openmpi-bin";
    }
}

/// <summary>
/// examples/DataParallel under <c>mpirun -np 2</c> and <c>-np 3</c>, against the same program in one process:
/// the losses of the same global batches agree to float rounding, and every rank ends with the same weights.
/// </summary>
public partial class MpiDataParallelTests(ITestOutputHelper output)
{
    internal static string? Mpirun { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);

    private static string Example => Path.Combine(AppContext.BaseDirectory, "DataParallel.dll");

    [MpiFact]
    public void TwoAndThreeRanks_BitIdenticalWeights_LossesOfOneProcess() =>
        CompareWithOneProcess(["--samples", "600", "--epochs", "2", "--batch", "100", "--units", "8", "--steps", "12"]);

    /// <summary>The same on a batch source (a TimeseriesDataset, shuffled batch order): each rank gathers only its windows.</summary>
    [MpiFact]
    public void BatchSource_TwoAndThreeRanks_BitIdenticalWeights_LossesOfOneProcess() =>
        CompareWithOneProcess(["--source", "--samples", "500", "--epochs", "2", "--batch", "64", "--units", "8", "--steps", "12"]);

    private void CompareWithOneProcess(string[] arguments)
    {
        var single = Ranks(Run(null, arguments), 1);
        foreach (int n in new[] { 2, 3 })
        {
            var ranks = Ranks(Run(n, arguments), n);
            Assert.All(ranks, r => Assert.Equal(ranks[0].Hash, r.Hash));
            double relative = Math.Abs(ranks[0].Loss - single[0].Loss) / Math.Abs(single[0].Loss);
            output.WriteLine($"{n} ranks: loss {ranks[0].Loss:R} vs one process {single[0].Loss:R} (relative {relative:E2}); weights sha256 {ranks[0].Hash[..16]}... on every rank");
            Assert.True(relative <= 1e-5, $"{n} ranks: loss {ranks[0].Loss:R} vs one process {single[0].Loss:R}");
        }
    }

    /// <summary>
    /// Gradient sums started during backward (MPI_Iallreduce from the marks on each layer's input) give the same
    /// weights, bit for bit, as sums after backward.
    /// </summary>
    [MpiFact]
    public void OverlapGradients_SameWeightsAsAfterBackward_BucketsStartDuringBackward()
    {
        string[] arguments = ["--samples", "200", "--epochs", "1", "--batch", "50", "--units", "8", "--steps", "8", "--layers", "2", "--bucket", "1024", "--throughput"];
        var after = Run(2, arguments);
        var during = Run(2, [.. arguments, "--overlap"]);
        Assert.Equal(Ranks(after, 2)[0].Hash, Ranks(during, 2)[0].Hash);
        Assert.All(Ranks(during, 2), r => Assert.Equal(Ranks(after, 2)[0].Hash, r.Hash));
        var started = Regex.Match(during, @"started during backward: (\d+)");
        Assert.True(started.Success && int.Parse(started.Groups[1].Value, CultureInfo.InvariantCulture) > 0, during);
        output.WriteLine(Regex.Match(during, "gradient allreduce calls: .*").Value);
    }

    [MpiFact]
    public void RankThatDies_StopsTheWholeRun_NoHang()
    {
        var clock = Stopwatch.StartNew();
        var (exit, text) = Execute(2, ["--samples", "200", "--epochs", "50", "--batch", "50", "--units", "4", "--steps", "8", "--die-on-rank", "1"]);
        Assert.NotEqual(0, exit);
        Assert.Contains("rank 1 stops here on purpose", text);
        Assert.DoesNotContain("rank 0/2: loss", text);
        output.WriteLine($"the job ended with exit {exit} after {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static List<(int Rank, double Loss, string Hash)> Ranks(string text, int expected)
    {
        var ranks = RankLine().Matches(text).Select(m => (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture),
            double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), m.Groups[4].Value)).OrderBy(r => r.Item1).ToList();
        Assert.True(ranks.Count == expected, $"expected {expected} rank lines, got {ranks.Count}:\n{text}");
        Assert.True(ranks.Select(r => r.Item1).SequenceEqual(Enumerable.Range(0, expected)), text);
        return ranks;
    }

    private string Run(int? ranks, string[] arguments)
    {
        var (exit, text) = Execute(ranks, arguments);
        Assert.True(exit == 0, $"exit {exit}:\n{text}");
        return text;
    }

    /// <summary>Runs the example alone (<paramref name="ranks"/> null) or under mpirun, with a time limit.</summary>
    private static (int Exit, string Output) Execute(int? ranks, string[] arguments)
    {
        var info = new ProcessStartInfo(ranks is null ? "dotnet" : Mpirun!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (ranks is int n)
        {
            foreach (var a in new[] { "-np", n.ToString(CultureInfo.InvariantCulture), "--oversubscribe", "--bind-to", "none" })
                info.ArgumentList.Add(a);
            info.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
            info.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
            info.Environment.Remove("TERM");
            info.ArgumentList.Add("dotnet");
        }
        info.ArgumentList.Add(Example);
        foreach (var a in arguments)
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(240)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{(ranks is null ? "the example" : "mpirun")} did not finish in 240 s: {stdout.Result}{stderr.Result}");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    [GeneratedRegex(@"rank (\d+)/(\d+): loss ([0-9.eE+-]+), weights sha256 ([0-9a-f]{64})")]
    private static partial Regex RankLine();
}
