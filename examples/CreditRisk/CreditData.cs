using static TorchSharp.torch;

namespace SeqSharp.Examples.CreditRisk;

/// <summary>
/// Synthetic monthly account histories with a known default rule. Every account has
/// <see cref="Months"/> months of four features, drawn independently of one another:
/// <list type="bullet">
/// <item><c>balance</c>: the current-account balance (a random walk around a per-account level, in units of 10,000);</item>
/// <item><c>payment</c>: the share of the card bill paid that month, U(0.05, 0.6);</item>
/// <item><c>utilisation</c>: the share of the credit limit in use: a per-account level U(0.1, 0.5) plus noise
/// (sd 0.03); in 35% of accounts it climbs by 0.02 to 0.05 a month from a month in 8..20;</item>
/// <item><c>late</c>: 1 when the month's payment came after the due date: each month with probability 0.03; in
/// 40% of accounts two consecutive late months are planted, starting at a uniform month in 12..22 (so about half
/// of them fall before the last 6 months and do not count).</item>
/// </list>
/// <para><b>The rule.</b> An account is <i>at risk</i> when it has two consecutive late months within the
/// last 6 months (months 18..23) <i>and</i> rising utilisation: the mean of months 18..23 exceeds the mean
/// of months 12..17 by more than 0.1. At-risk accounts default with probability 0.9, the others with
/// probability 0.01 (label noise). The true causes of a default are
/// therefore the late flags of months 18..23 and the utilisation of months 12..23; balance and payment
/// carry no information.</para>
/// </summary>
public static class CreditData
{
    /// <summary>Months per history.</summary>
    public const int Months = 24;

    /// <summary>Feature names in input order.</summary>
    public static readonly string[] Features = ["balance", "payment", "utilisation", "late"];

    /// <summary>Feature indices.</summary>
    public const int Balance = 0, Payment = 1, Utilisation = 2, Late = 3;

    /// <summary>One data set: inputs <c>(n, 24, 4)</c>, default labels <c>(n, 1)</c> (0/1) and whether the rule holds per account.</summary>
    public sealed record Set(Tensor X, Tensor Y, bool[] AtRisk)
    {
        /// <summary>Accounts in the set.</summary>
        public int Count => AtRisk.Length;
    }

    /// <summary>Draws <paramref name="accounts"/> histories from <paramref name="random"/>.</summary>
    public static Set Generate(int accounts, Random random)
    {
        var x = new float[accounts, Months, Features.Length];
        var y = new float[accounts, 1];
        var atRisk = new bool[accounts];
        for (int a = 0; a < accounts; a++)
        {
            double level = 0.5 + 1.5 * random.NextDouble(), walk = 0;
            double utilLevel = 0.1 + 0.4 * random.NextDouble();
            bool rising = random.NextDouble() < 0.35;
            int riseFrom = 8 + random.Next(13);
            double rate = 0.02 + 0.03 * random.NextDouble();
            var late = new bool[Months];
            for (int t = 0; t < Months; t++)
                late[t] = random.NextDouble() < 0.03;
            if (random.NextDouble() < 0.40)
            {
                int m = 12 + random.Next(Months - 13);
                late[m] = late[m + 1] = true;
            }
            var util = new double[Months];
            for (int t = 0; t < Months; t++)
            {
                walk += 0.05 * Normal(random);
                util[t] = Math.Clamp(utilLevel + (rising && t > riseFrom ? rate * (t - riseFrom) : 0) + 0.03 * Normal(random), 0, 1);
                x[a, t, Balance] = (float)(level + walk);
                x[a, t, Payment] = (float)(0.05 + 0.55 * random.NextDouble());
                x[a, t, Utilisation] = (float)util[t];
                x[a, t, Late] = late[t] ? 1f : 0f;
            }
            atRisk[a] = RuleHolds(late, util);
            y[a, 0] = random.NextDouble() < (atRisk[a] ? 0.9 : 0.01) ? 1f : 0f;
        }
        return new Set(tensor(x), tensor(y), atRisk);
    }

    /// <summary>The rule: two consecutive late months within months 18..23 and mean utilisation of months 18..23 above that of 12..17 by more than 0.1.</summary>
    public static bool RuleHolds(bool[] late, double[] utilisation)
    {
        bool twoLate = Enumerable.Range(Months - 6, 5).Any(m => late[m] && late[m + 1]);
        double recent = utilisation[(Months - 6)..].Average(), before = utilisation[(Months - 12)..(Months - 6)].Average();
        return twoLate && recent - before > 0.1;
    }

    /// <summary>The cells that cause a default under the rule, <c>(24, 4)</c>: late flags of months 18..23 and utilisation of months 12..23.</summary>
    public static Tensor CauseMask()
    {
        var mask = zeros(Months, Features.Length, ScalarType.Bool);
        mask[(Months - 6)..Months, Late] = true;
        mask[(Months - 12)..Months, Utilisation] = true;
        return mask;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
