using SeqSharp.Examples.CreditRisk;

namespace SeqSharp.Tests.Examples;

public class CreditRiskTests
{
    [Fact]
    public void BinaryScores_HandComputedCase()
    {
        // Defaults score 0.9 and 0.4; the others 0.8, 0.3, 0.4. Pairs won by the default: 0.9 beats all three (3),
        // 0.4 beats 0.3 (1) and ties 0.4 (½): AUC = 4.5 / 6. At 0.5, 0.9 and 0.8 are flagged: precision ½, recall ½.
        var scores = BinaryScores.Compute([0.9, 0.8, 0.4, 0.3, 0.4], [1, 0, 1, 0, 0]);
        Assert.Equal(0.75, scores.Auc, 12);
        Assert.Equal(0.5, scores.Precision, 12);
        Assert.Equal(0.5, scores.Recall, 12);
        Assert.Equal(2, scores.Flagged);
        Assert.Equal(1.0, BinaryScores.Compute([0.1, 0.7, 0.2], [0, 1, 0]).Auc, 12);
    }

    [Fact]
    public void Generate_LabelsFollowTheRuleWithRealisticImbalance()
    {
        var set = CreditData.Generate(3000, new Random(11));
        Assert.Equal(new long[] { 3000, CreditData.Months, 4 }, set.X.shape);
        var x = set.X.data<float>().ToArray();
        int months = CreditData.Months;
        for (int a = 0; a < set.Count; a++)
        {
            var late = Enumerable.Range(0, months).Select(t => x[(a * months + t) * 4 + CreditData.Late] > 0.5f).ToArray();
            var util = Enumerable.Range(0, months).Select(t => (double)x[(a * months + t) * 4 + CreditData.Utilisation]).ToArray();
            Assert.Equal(CreditData.RuleHolds(late, util), set.AtRisk[a]);
        }
        var y = set.Y.reshape(-1).data<float>().ToArray();
        double rate = y.Average();
        Assert.InRange(rate, 0.02, 0.10);
        double atRiskDefault = Enumerable.Range(0, set.Count).Where(a => set.AtRisk[a]).Average(a => y[a]);
        Assert.InRange(atRiskDefault, 0.75, 1.0);
        var causes = CreditData.CauseMask();
        Assert.Equal(6 + 12, causes.sum().item<long>());
    }

    [Fact]
    public void RankAgreement_HandComputedSpearman()
    {
        var a = tensor(new double[,] { { 1, 2, 3, 4 }, { 4, 3, 2, 1 } });
        var b = tensor(new double[,] { { 10, 20, 30, 40 }, { 1, 2, 3, 4 } });
        Assert.Equal(0.0, MethodComparison.RankAgreement(a, b), 12);           // +1 and -1
        Assert.Equal(1.0, MethodComparison.RankAgreement(a, a), 12);
        // Ranks 0,1,2,3 against 1,0,3,2: ρ = 1 - 6·Σd²/(n(n²-1)) = 1 - 6·4/60 = 0.6.
        Assert.Equal(0.6, MethodComparison.RankAgreement(tensor(new double[,] { { 1, 2, 3, 4 } }), tensor(new double[,] { { 2, 1, 4, 3 } })), 12);
    }
}
