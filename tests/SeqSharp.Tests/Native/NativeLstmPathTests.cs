using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;
using Xunit.Sdk;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Native;

/// <summary>
/// What LibTorch's float32 <c>nn.LSTM</c> does on this CPU, measured once against the same module in float64.
/// </summary>
/// <remarks>
/// Under <c>no_grad</c>, LibTorch 2.10 hands float32 LSTMs to oneDNN 3.7.1's inference primitive, whose
/// AVX-512 code returns wrong numbers on some CPUs (shared/notes/onednn-lstm-avx512.md). The fixture
/// reports the measured differences in the test run's output (xunit diagnostic messages), whatever they are.
/// </remarks>
public sealed class NativeLstmPathReport
{
    public NativeLstmPathReport(IMessageSink sink)
    {
        manual_seed(20261202);
        var layer = new LSTM(6, returnSequences: true);
        layer.Build([11, 4]);
        using (no_grad())
            layer.Weights[2].uniform_(-0.5, 0.5);
        var reference = NativeModules.Lstm(layer);
        var x = randn(5, 11, 4);

        Tensor truth;
        using (no_grad())
            truth = reference.Float64Copy().call(x.to_type(ScalarType.Float64)).Item1;
        using (no_grad())
            NativeInference = MaxDiff(truth, reference.Module.call(x).Item1);
        NativeTraining = MaxDiff(truth, reference.Module.call(x).Item1.detach());
        using (no_grad())
            OursInference = MaxDiff(truth, layer.Call(x));
        OursTraining = MaxDiff(truth, layer.Call(x.clone().requires_grad_(true)).detach());

        string flags = Avx512Flags();
        string verdict = NativeInference > Tolerance ? "WRONG on this CPU (oneDNN's AVX-512 LSTM inference fault)" : "right on this CPU";
        Message = $"LibTorch nn.LSTM float32 inference (no_grad) differs from float64 by {NativeInference:E2}: {verdict}. " +
            $"nn.LSTM with autograd on: {NativeTraining:E2}. SeqSharp LSTM: {OursInference:E2} (no_grad), {OursTraining:E2} (autograd). " +
            $"AVX-512 flags: {(flags.Length == 0 ? "none" : flags)}.";
        sink.OnMessage(new DiagnosticMessage(Message));
    }

    /// <summary>Float32 rounding over 11 steps stays well below this; the oneDNN fault is 1e-1.</summary>
    public const double Tolerance = 1e-5;

    public double NativeInference { get; }
    public double NativeTraining { get; }
    public double OursInference { get; }
    public double OursTraining { get; }
    public string Message { get; }

    /// <summary>The CPU's AVX-512 flags from /proc/cpuinfo, space-separated ("" where there are none).</summary>
    public static string Avx512Flags()
    {
        if (!File.Exists("/proc/cpuinfo"))
            return "unknown";
        string line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? "";
        return string.Join(" ", line.Split(' ').Where(f => f.StartsWith("avx512", StringComparison.Ordinal)).Distinct().Order());
    }

    private static double MaxDiff(Tensor expected, Tensor actual) =>
        (expected - actual.to_type(ScalarType.Float64)).abs().max().item<double>();
}

public class NativeLstmPathTests(NativeLstmPathReport report, ITestOutputHelper output) : IClassFixture<NativeLstmPathReport>
{
    /// <summary>Informational: passes whatever LibTorch's inference path does here, and says what it did.</summary>
    [Fact]
    public void NativeLstmInference_IsMeasuredAgainstFloat64()
    {
        output.WriteLine(report.Message);
        Assert.False(double.IsNaN(report.NativeInference), report.Message);
    }

    /// <summary>Our kernel is right in both modes, on this CPU as on every other, whatever LibTorch's inference path does.</summary>
    [Fact]
    public void SeqSharpLstm_MatchesFloat64_InBothModes()
    {
        output.WriteLine(report.Message);
        Assert.True(report.OursInference <= NativeLstmPathReport.Tolerance, report.Message);
        Assert.True(report.OursTraining <= NativeLstmPathReport.Tolerance, report.Message);
    }

    /// <summary>
    /// The gradient tests take float32 <c>nn.LSTM</c> with autograd on as their reference
    /// (<see cref="ReferenceLstm"/>); that path must be right here, or those tests would mean nothing.
    /// </summary>
    [Fact]
    public void NativeLstmAutogradPath_MatchesFloat64()
    {
        output.WriteLine(report.Message);
        Assert.True(report.NativeTraining <= NativeLstmPathReport.Tolerance, report.Message);
    }
}
