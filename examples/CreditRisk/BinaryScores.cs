namespace SeqSharp.Examples.CreditRisk;

/// <summary>A classifier's scores on a test set: ROC AUC, and precision and recall at a threshold.</summary>
/// <param name="Auc">Area under the ROC curve: the probability that a random default scores above a random non-default (ties count ½).</param>
/// <param name="Precision">Of the accounts flagged (score ≥ threshold), the share that defaulted.</param>
/// <param name="Recall">Of the accounts that defaulted, the share flagged.</param>
/// <param name="Flagged">Accounts flagged.</param>
public sealed record BinaryScores(double Auc, double Precision, double Recall, int Flagged)
{
    /// <summary>Scores <paramref name="probabilities"/> against 0/1 <paramref name="labels"/>, flagging at <paramref name="threshold"/>.</summary>
    public static BinaryScores Compute(double[] probabilities, double[] labels, double threshold = 0.5)
    {
        if (probabilities.Length != labels.Length || labels.Length == 0)
            throw new ArgumentException($"Expected as many scores as labels, at least one. Received {probabilities.Length} scores and {labels.Length} labels.");
        int n = labels.Length;
        // AUC by the Mann–Whitney U statistic, with average ranks for tied scores.
        var order = Enumerable.Range(0, n).OrderBy(i => probabilities[i]).ToArray();
        var ranks = new double[n];
        for (int start = 0; start < n;)
        {
            int end = start;
            while (end + 1 < n && probabilities[order[end + 1]] == probabilities[order[start]])
                end++;
            double rank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++)
                ranks[order[k]] = rank;
            start = end + 1;
        }
        int positives = labels.Count(l => l > 0.5), negatives = n - positives;
        double rankSum = Enumerable.Range(0, n).Where(i => labels[i] > 0.5).Sum(i => ranks[i]);
        double auc = positives == 0 || negatives == 0 ? double.NaN : (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
        int flagged = probabilities.Count(p => p >= threshold);
        int hits = Enumerable.Range(0, n).Count(i => probabilities[i] >= threshold && labels[i] > 0.5);
        return new BinaryScores(auc, flagged == 0 ? 0 : (double)hits / flagged, positives == 0 ? 0 : (double)hits / positives, flagged);
    }
}
