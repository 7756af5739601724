using static TorchSharp.torch;

namespace SeqSharp.Examples.CreditRisk;

/// <summary>
/// The features a credit analyst would compute by hand from a history, for the logistic-regression
/// baseline: late months in all 24 and in the last 6, the longest run of consecutive late months,
/// mean utilisation, the change of mean utilisation from months 12..17 to 18..23, mean payment share
/// and the last balance.
/// </summary>
public static class HandFeatures
{
    /// <summary>Names, in column order.</summary>
    public static readonly string[] Names = ["late months", "late months (last 6)", "longest late run", "mean utilisation", "utilisation change (last 6 vs previous 6)", "mean payment", "last balance"];

    /// <summary>The features of each account, <c>(n, 7)</c>, float32.</summary>
    public static Tensor Compute(Tensor x)
    {
        int n = (int)x.shape[0], months = (int)x.shape[1];
        var data = x.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        int features = (int)x.shape[2];
        float At(int a, int t, int f) => data[(a * months + t) * features + f];
        var result = new float[n, Names.Length];
        for (int a = 0; a < n; a++)
        {
            int lates = 0, recent = 0, run = 0, longest = 0;
            double util = 0, utilRecent = 0, utilBefore = 0, payment = 0;
            for (int t = 0; t < months; t++)
            {
                bool late = At(a, t, CreditData.Late) > 0.5f;
                lates += late ? 1 : 0;
                recent += late && t >= months - 6 ? 1 : 0;
                run = late ? run + 1 : 0;
                longest = Math.Max(longest, run);
                util += At(a, t, CreditData.Utilisation);
                if (t >= months - 6)
                    utilRecent += At(a, t, CreditData.Utilisation) / 6.0;
                else if (t >= months - 12)
                    utilBefore += At(a, t, CreditData.Utilisation) / 6.0;
                payment += At(a, t, CreditData.Payment);
            }
            double[] row = [lates, recent, longest, util / months, utilRecent - utilBefore, payment / months, At(a, months - 1, CreditData.Balance)];
            for (int k = 0; k < row.Length; k++)
                result[a, k] = (float)row[k];
        }
        return tensor(result);
    }
}
