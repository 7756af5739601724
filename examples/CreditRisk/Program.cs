// Credit risk: a default probability from monthly account histories (balance, payment, utilisation,
// late flags), synthetic with a known rule (two consecutive late months in the last 6 together with
// rising utilisation). An LSTM trained with class weights against a logistic regression on hand-made
// features; then Kernel SHAP, LIME and every other attribution method are checked against the rule,
// and compared on the adding problem as well. Options: --small (well under a minute), --out <folder>
// for the pictures (default: the current folder).
using System.Diagnostics;
using SeqSharp.Examples.CreditRisk;

// Small recurrent models train fastest on one LibTorch thread (see examples/CnnLstmForecast).
SeqSharp.Native.TorchNative.EnsureLoaded();
TorchSharp.torch.set_num_threads(1);

int outAt = Array.IndexOf(args, "--out");
string folder = outAt >= 0 && outAt + 1 < args.Length ? args[outAt + 1] : Directory.GetCurrentDirectory();
bool small = args.Contains("--small");
var clock = Stopwatch.StartNew();
var options = small ? CreditOptions.Small : CreditOptions.Full;
var credit = CreditRiskExample.Run(options, Console.Out, folder);
Console.WriteLine();
var (adding, _) = AddingComparison.Run(small ? 3_200 : 6_400, small ? 10 : 20, small ? 8 : 20, options.Comparison, Console.Out);
Console.WriteLine();
Console.WriteLine("Rank agreement between methods, credit rule (Spearman, mean over the explained accounts):");
Console.WriteLine();
Console.Write(MethodComparison.AgreementMatrix(credit.Comparison));
Console.WriteLine();
Console.WriteLine("Rank agreement between methods, adding problem:");
Console.WriteLine();
Console.Write(MethodComparison.AgreementMatrix(adding));
Console.WriteLine();
Console.WriteLine($"Pictures in {Path.GetFullPath(folder)} (credit-*.png). Total time {clock.Elapsed.TotalSeconds:F0} s.");
