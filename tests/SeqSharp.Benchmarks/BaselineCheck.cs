using System.Globalization;
using SeqSharp.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Benchmarks;

/// <summary>
/// Checks ours and the native baseline against the same module in float64 before anything is timed:
/// inference (autograd off) and the training forward (autograd on), on one batch of the shape.
/// </summary>
/// <remarks>
/// On some AVX-512 CPUs LibTorch's float32 <c>nn.LSTM</c> inference (oneDNN 3.7.1's primitive) is wrong
/// by 1e-1 (shared/notes/onednn-lstm-avx512.md); a ratio against such a baseline compares with numbers
/// nobody should use, so the table labels it.
/// </remarks>
internal sealed record BaselineCheck(double OursInference, double NativeInference, double OursTraining, double NativeTraining)
{
    /// <summary>Above this max |difference| from float64 an output counts as wrong (float32 rounding over 1000 steps stays near 1e-6).</summary>
    public const double Tolerance = 1e-4;

    public bool NativeInferenceRight => NativeInference <= Tolerance;

    public bool AllRight => OursInference <= Tolerance && NativeInference <= Tolerance && OursTraining <= Tolerance && NativeTraining <= Tolerance;

    public static BaselineCheck Run(string cell, Rnn ours, nn.Module<Tensor, Tensor> native, Shape shape)
    {
        using var scope = NewDisposeScope();
        var reference = Models.Native(cell, ours, ScalarType.Float64);
        var x = randn(shape.Batch, shape.Steps, shape.Features);
        Tensor truth;
        double oursInference, nativeInference;
        using (no_grad())
        {
            truth = reference.call(x.to_type(ScalarType.Float64));
            nativeInference = Diff(truth, native.call(x));
            oursInference = Diff(truth, ours.Call(x));
        }
        double nativeTraining = Diff(truth, native.call(x).detach());
        double oursTraining = Diff(truth, ours.Call(x.clone().requires_grad_(true)).detach());
        return new BaselineCheck(oursInference, nativeInference, oursTraining, nativeTraining);
    }

    /// <summary>"inference 2.5e-01 WRONG" style summary of the native side.</summary>
    public string NativeLabel(bool training) => training
        ? Label(NativeTraining)
        : Label(NativeInference);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"max |diff| vs float64: ours {OursInference:E1} inference, {OursTraining:E1} training; native {NativeInference:E1} inference, {NativeTraining:E1} training");

    private static string Label(double diff) => string.Create(CultureInfo.InvariantCulture,
        $"{diff:E1} vs float64{(diff > Tolerance ? ", WRONG" : "")}");

    private static double Diff(Tensor truth, Tensor actual) =>
        (truth - actual.to_type(ScalarType.Float64)).abs().max().item<double>();
}
