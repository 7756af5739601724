using System.Diagnostics;
using SeqSharp.Layers;
using TorchSharp;
using static TorchSharp.torch;

SeqSharp.Native.TorchNative.EnsureLoaded();
if (Environment.GetEnvironmentVariable("THREADS") is string th) set_num_threads(int.Parse(th));
Console.WriteLine($"threads {get_num_threads()}");
var configs = new (string Name, int B, int T, int I, int H)[] { ("S", 32, 10, 1, 64), ("M", 64, 50, 32, 128), ("L", 64, 100, 256, 256), ("long", 16, 1000, 8, 64), ("b1", 1, 100, 8, 64) };
string only = args.Length > 0 ? args[0] : "";
if (only == "gemm") { Gemm.Run(); return; }
foreach (var c in configs)
{
    if (only != "" && !only.Split(',').Contains(c.Name)) continue;
    manual_seed(1);
    var ours = new SeqSharp.Layers.LSTM(c.H, returnSequences: true);
    ours.Build([c.T, c.I]);
    var native = nn.LSTM(c.I, c.H, batchFirst: true);
    var x = randn(c.B, c.T, c.I);
    var probe = randn(c.B, c.T, c.H);
    var ourParams = ours.Weights.ToList();
    var nativeParams = native.parameters().ToList();
    Action oursStep = () => {
        using var s = NewDisposeScope();
        foreach (var p in ourParams) p.grad = null;
        var y = ours.Call(x);
        (y * probe).sum().backward();
    };
    Action nativeStep = () => {
        using var s = NewDisposeScope();
        foreach (var p in nativeParams) p.grad = null;
        var (y, _, _) = native.call(x);
        (y * probe).sum().backward();
    };
    Action oursInfer = () => { using var s = NewDisposeScope(); using var g = no_grad(); ours.Call(x); };
    Action nativeInfer = () => { using var s = NewDisposeScope(); using var g = no_grad(); native.call(x); };
    int reps = c.Name == "L" || c.Name == "long" ? 7 : 21;
    int inner = c.Name is "S" or "b1" ? 20 : 1;
    var (tOurs, tNative, ratio) = Compare(oursStep, nativeStep, reps, inner);
    var (iOurs, iNative, iratio) = Compare(oursInfer, nativeInfer, reps, inner);
    Console.WriteLine($"{c.Name,-5} train ours {tOurs * 1e3,8:F3} ms native {tNative * 1e3,8:F3} ms ratio {ratio:F2} | infer ours {iOurs * 1e3,8:F3} native {iNative * 1e3,8:F3} ratio {iratio:F2}");
}

static (double Ours, double Native, double Ratio) Compare(Action ours, Action native, int reps, int inner)
{
    for (int w = 0; w < 3; w++) { ours(); native(); }
    var o = new List<double>(); var n = new List<double>(); var r = new List<double>();
    for (int k = 0; k < reps; k++)
    {
        double a = Time(ours, inner), b = Time(native, inner);
        o.Add(a); n.Add(b); r.Add(a / b);
    }
    return (Median(o), Median(n), Median(r));
}
static double Time(Action f, int inner) { var sw = Stopwatch.StartNew(); for (int i = 0; i < inner; i++) f(); return sw.Elapsed.TotalSeconds / inner; }
static double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }
