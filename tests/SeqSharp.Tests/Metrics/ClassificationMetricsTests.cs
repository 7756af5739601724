using SeqSharp.Metrics;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Metrics;

/// <summary>
/// Precision, Recall, AUC, F1Score and FBetaScore against Keras 3's formulas
/// (keras/src/metrics/confusion_metrics.py, f_score_metrics.py, metrics_utils.py), with counts
/// worked out by hand in the comments.
/// </summary>
public class ClassificationMetricsTests
{
    [Fact]
    public void Precision_CountsAboveHalfAsPositive_WithWeightsAndBatches()
    {
        // Predicted positive (> 0.5): samples 0, 2, 3, 5. Labels: 0, 1, 1, 0, 1, 1.
        // TP = {2}, FP = {0, 3}... sample 5 has label 1: TP = {2, 5}, FP = {0, 3}.
        double[] y = [0, 1, 1, 0, 1, 1];
        double[] p = [0.9, 0.4, 0.7, 0.6, 0.5, 0.51];
        var precision = new Precision();
        Feed.InBatches(precision, T(y, 6, 1), T(p, 6, 1), sizes: [4, 2]);
        Assert.Equal(2.0 / 4, precision.Result(), 12);
        var recall = new Recall();
        Feed.InBatches(recall, T(y, 6, 1), T(p, 6, 1), sizes: [4, 2]);
        // Positives: 1, 2, 4, 5; found: 2, 5 (0.5 is not above 0.5).
        Assert.Equal(2.0 / 4, recall.Result(), 12);

        // Weights 1..6: TP weight 3 + 6 = 9, FP weight 1 + 4 = 5, FN weight 2 + 5 = 7.
        double[] w = [1, 2, 3, 4, 5, 6];
        precision.ResetState();
        precision.UpdateState(T(y, 6), T(p, 6), T(w, 6));
        Assert.Equal(9.0 / 14, precision.Result(), 12);
        recall.ResetState();
        recall.UpdateState(T(y, 6), T(p, 6), T(w, 6));
        Assert.Equal(9.0 / 16, recall.Result(), 12);
    }

    [Fact]
    public void PrecisionRecall_NothingPredicted_IsZeroNotNaN()
    {
        var precision = new Precision();
        precision.UpdateState(T([1, 0], 2), T([0.1, 0.2], 2));
        Assert.Equal(0.0, precision.Result());
        Assert.Equal(0.0, new Recall().Result());
    }

    [Fact]
    public void PrecisionRecall_SeveralThresholds_OneValueEachAndIndexedLogs()
    {
        double[] y = [0, 1, 1, 1];
        double[] p = [0.3, 0.2, 0.6, 0.9];
        var precision = new Precision(thresholds: [0.1, 0.5, 0.95]);
        precision.UpdateState(T(y, 4), T(p, 4));
        // > 0.1: all four, TP 3 FP 1; > 0.5: 0.6 and 0.9, both right; > 0.95: none.
        Assert.Equal(new[] { 0.75, 1.0, 0.0 }, precision.ResultPerThreshold());
        var model = new Sequential();
        model.Add(new SeqSharp.Layers.Dense(1, activation: "sigmoid", inputShape: [2]));
        model.Compile(optimizer: "sgd", loss: "binary_crossentropy", metrics: [new Precision(thresholds: [0.3, 0.7]), "recall"]);
        var history = model.Fit(randn(8, 2), tensor(new float[] { 0, 1, 0, 1, 1, 0, 1, 0 }).reshape(8, 1), epochs: 1, verbose: 0);
        Assert.Equal(new[] { "loss", "precision[0]", "precision[1]", "recall" }, history.Keys);
    }

    [Fact]
    public void Precision_TopKAndClassId_CountOnlyThoseClasses()
    {
        // Rows (3 classes): top-2 of [0.1, 0.6, 0.3] is classes 1, 2; of [0.5, 0.2, 0.4] classes 0, 2.
        double[] y = [0, 1, 0, 0, 0, 1];
        double[] p = [0.1, 0.6, 0.3, 0.5, 0.2, 0.4];
        var topK = new Precision(topK: 2);
        topK.UpdateState(T(y, 2, 3), T(p, 2, 3));
        // Four predicted positives (the top 2 of each row); true among them: (0, 1) and (1, 2).
        Assert.Equal(0.5, topK.Result(), 12);
        var classTwo = new Recall(classId: 2);
        classTwo.UpdateState(T(y, 2, 3), T(p, 2, 3));
        // Class 2: labels 0, 1; predictions 0.3, 0.4: neither above 0.5, so recall 0.
        Assert.Equal(0.0, classTwo.Result(), 12);
        var classOne = new Recall(classId: 1);
        classOne.UpdateState(T(y, 2, 3), T(p, 2, 3));
        Assert.Equal(1.0, classOne.Result(), 12);
    }

    [Fact]
    public void Auc_KerasDocumentationExample_RocIsThreeQuarters()
    {
        // num_thresholds=3: thresholds [-1e-7, 0.5, 1 + 1e-7]; TP [2, 1, 0], FP [2, 0, 0], FN [0, 1, 2], TN [0, 2, 2];
        // TPR [1, 0.5, 0], FPR [1, 0, 0]; trapezoids: (1 + 0.5) / 2 · (1 - 0) + (0.5 + 0) / 2 · 0 = 0.75.
        var auc = new AUC(numThresholds: 3);
        auc.UpdateState(T([0, 0, 1, 1], 4), T([0, 0.5, 0.3, 0.9], 4));
        Assert.Equal(0.75, auc.Result(), 12);
        // Weights [1, 0, 0, 1]: TP [1, 1, 0], FP [1, 0, 0], TN [0, 1, 1], FN [0, 0, 1]: TPR [1, 1, 0], FPR [1, 0, 0]: area 1.
        auc.ResetState();
        auc.UpdateState(T([0, 0, 1, 1], 4), T([0, 0.5, 0.3, 0.9], 4), T([1, 0, 0, 1], 4));
        Assert.Equal(1.0, auc.Result(), 12);
    }

    [Fact]
    public void Auc_PrInterpolation_MatchesDavisGoadrichClosedForm()
    {
        // Same counts as above: TP [2, 1, 0], FP [2, 0, 0], FN [0, 1, 2]; P = TP + FP = [4, 1, 0].
        // Interval 0: dTP 1, dP 3, slope 1/3, intercept 1 - 1/3 = 2/3, P ratio 4, positives 2:
        //   (1/3)(1 + (2/3) ln 4) / 2. Interval 1: dTP 1, dP 1, slope 1, intercept 0, ratio 1 (P_B = 0), positives 2: 1/2.
        var auc = new AUC(numThresholds: 3, curve: "PR");
        auc.UpdateState(T([0, 0, 1, 1], 4), T([0, 0.5, 0.3, 0.9], 4));
        double expected = (1.0 / 3) * (1 + 2.0 / 3 * Math.Log(4)) / 2 + 0.5;
        Assert.Equal(expected, auc.Result(), 12);

        // Riemann PR: recall x [1, 0.5, 0], precision y [0.5, 1, 0]; minoring: 0.5·0.5 + 0.5·0 = 0.25; majoring: 0.5·1 + 0.5·1 = 1.
        var minoring = new AUC(numThresholds: 3, curve: "pr", summationMethod: "minoring");
        minoring.UpdateState(T([0, 0, 1, 1], 4), T([0, 0.5, 0.3, 0.9], 4));
        Assert.Equal(0.25, minoring.Result(), 12);
        var majoring = new AUC(numThresholds: 3, curve: "PR", summationMethod: "majoring");
        majoring.UpdateState(T([0, 0, 1, 1], 4), T([0, 0.5, 0.3, 0.9], 4));
        Assert.Equal(1.0, majoring.Result(), 12);
    }

    [Fact]
    public void Auc_DefaultThresholds_ScoresInSeparateBucketsGiveTheExactRocArea()
    {
        // Each score sits inside its own bucket of the 200 thresholds, so the trapezoids are exact:
        // the area is the Mann-Whitney statistic, the fraction of (positive, negative) pairs ranked right.
        var random = new Random(5);
        int n = 60;
        var buckets = Enumerable.Range(0, 199).OrderBy(_ => random.Next()).Take(n).ToArray();
        double[] scores = buckets.Select(b => (b + 0.5) / 199).ToArray();
        double[] labels = scores.Select(s => random.NextDouble() < s ? 1.0 : 0.0).ToArray();
        var positives = scores.Where((_, i) => labels[i] == 1).ToArray();
        var negatives = scores.Where((_, i) => labels[i] == 0).ToArray();
        double exact = positives.Sum(pos => negatives.Count(neg => pos > neg)) / (double)(positives.Length * negatives.Length);

        var auc = new AUC();
        Assert.Equal(200, auc.NumThresholds);
        Feed.InBatches(auc, T(labels, n), T(scores, n), sizes: [32, 28]);
        Assert.Equal(exact, auc.Result(), 12);
        var fromLogits = new AUC(fromLogits: true);
        fromLogits.UpdateState(T(labels, n), T(scores.Select(s => Math.Log(s / (1 - s))).ToArray(), n));
        Assert.Equal(exact, fromLogits.Result(), 10);
    }

    [Fact]
    public void Auc_MultiLabel_AveragesThePerLabelAreas()
    {
        // Label 0 is the documentation example (0.75); label 1 is ranked perfectly (1.0).
        double[] y = [0, 0, 0, 0, 1, 1, 1, 1];
        double[] p = [0, 0.1, 0.5, 0.2, 0.3, 0.8, 0.9, 0.7];
        var auc = new AUC(numThresholds: 3, multiLabel: true);
        auc.UpdateState(T(y, 4, 2), T(p, 4, 2));
        Assert.Equal((0.75 + 1.0) / 2, auc.Result(), 12);
        var weighted = new AUC(numThresholds: 3, multiLabel: true, labelWeights: [3, 1]);
        weighted.UpdateState(T(y, 4, 2), T(p, 4, 2));
        Assert.Equal((3 * 0.75 + 1.0) / 4, weighted.Result(), 12);
    }

    [Fact]
    public void F1Score_KerasDocumentationExample_GivesDocumentedValues()
    {
        // Class 0: predicted [F, F, T] vs [1, 1, 1]: P 1, R 1/3: 0.5. Class 1: [T, T, T] vs [1, 0, 1]: P 2/3, R 1: 0.8.
        // Class 2: [T, T, F] vs [1, 0, 0]: P 1/2, R 1: 2/3 (each with Keras's 1e-7 in the denominators).
        double[] y = [1, 1, 1, 1, 0, 0, 1, 1, 0];
        double[] p = [0.2, 0.6, 0.7, 0.2, 0.6, 0.6, 0.6, 0.8, 0.0];
        var f1 = new F1Score(threshold: 0.5);
        f1.UpdateState(T(y, 3, 3), T(p, 3, 3));
        var perClass = f1.ResultPerClass();
        Assert.Equal(3, perClass.Length);
        Assert.Equal(0.5, perClass[0], 6);
        Assert.Equal(0.8, perClass[1], 6);
        Assert.Equal(2.0 / 3, perClass[2], 6);
        var macro = new F1Score(average: "macro", threshold: 0.5);
        macro.UpdateState(T(y, 3, 3), T(p, 3, 3));
        Assert.Equal((0.5 + 0.8 + 2.0 / 3) / 3, macro.Result(), 5);
        // Weighted by support [3, 2, 1].
        var weighted = new F1Score(average: "weighted", threshold: 0.5);
        weighted.UpdateState(T(y, 3, 3), T(p, 3, 3));
        Assert.Equal((3 * 0.5 + 2 * 0.8 + 2.0 / 3) / 6, weighted.Result(), 5);
        // Micro: TP 1 + 2 + 1 = 4, FP 0 + 1 + 1 = 2, FN 2 + 0 + 0 = 2: P = R = 4/6, F1 = 2/3.
        var micro = new F1Score(average: "micro", threshold: 0.5);
        micro.UpdateState(T(y, 3, 3), T(p, 3, 3));
        Assert.Equal(2.0 / 3, micro.Result(), 5);
    }

    [Fact]
    public void FBetaScore_BetaTwoAndArgmaxThreshold_MatchesHandCounts()
    {
        // No threshold: each row's maximum is the prediction. Rows: argmax 2, 1, 1. Labels one-hot 2, 0, 1.
        // Micro: TP 2 (rows 0, 2), FP 1, FN 1: P = R = 2/3, F2 = 5 P R / (4 P + R) = 2/3.
        double[] y = [0, 0, 1, 1, 0, 0, 0, 1, 0];
        double[] p = [0.1, 0.2, 0.7, 0.3, 0.6, 0.1, 0.2, 0.5, 0.3];
        var f2 = new FBetaScore(average: "micro", beta: 2.0);
        f2.UpdateState(T(y, 3, 3), T(p, 3, 3));
        double precision = 2.0 / (3 + 1e-7), recall = 2.0 / (3 + 1e-7);
        Assert.Equal(5 * precision * recall / (4 * precision + recall + 1e-7), f2.Result(), 12);
        // Class 1 alone: TP 1 (row 2), FP 1 (row 1), FN 0: P 1/2, R 1: F2 = 5 · 0.5 / (2 + 1) = 5/6.
        var perClass = new FBetaScore(beta: 2.0);
        perClass.UpdateState(T(y, 3, 3), T(p, 3, 3));
        Assert.Equal(5.0 / 6, perClass.ResultPerClass()[1], 6);
    }

    [Theory]
    [InlineData("precision", typeof(Precision))]
    [InlineData("Precision", typeof(Precision))]
    [InlineData("recall", typeof(Recall))]
    [InlineData("auc", typeof(AUC))]
    [InlineData("AUC", typeof(AUC))]
    [InlineData("f1_score", typeof(F1Score))]
    [InlineData("F1Score", typeof(F1Score))]
    [InlineData("f_beta_score", typeof(FBetaScore))]
    public void Get_KerasNames_ReturnTheMetricNamedAsGiven(string name, Type type)
    {
        var metric = Metric.Get(name);
        Assert.IsType(type, metric);
        Assert.Equal(name, metric.Name);
    }

    [Fact]
    public void FromConfig_KerasConfigs_ReadKerasKeys()
    {
        // As keras.metrics.Precision(thresholds=0.3).get_config() and AUC(curve="PR").get_config() write them.
        var precision = (Precision)Metric.FromConfig("Precision", new Dictionary<string, object?>
        {
            ["name"] = "precision", ["dtype"] = "float32", ["thresholds"] = 0.3, ["top_k"] = null, ["class_id"] = null,
        });
        Assert.Equal(new[] { 0.3 }, precision.Thresholds);
        var auc = (AUC)Metric.FromConfig("AUC", new Dictionary<string, object?>
        {
            ["name"] = "auc", ["dtype"] = "float32", ["num_thresholds"] = 200L, ["curve"] = "PR", ["summation_method"] = "interpolation",
            ["multi_label"] = false, ["num_labels"] = null, ["label_weights"] = null, ["from_logits"] = false,
        });
        Assert.Equal("PR", auc.Curve);
        Assert.Equal(200, auc.NumThresholds);
    }

    [Fact]
    public void Constructors_InvalidArguments_SayWhatWasReceived()
    {
        Assert.Contains("curve", Assert.Throws<ArgumentException>(() => new AUC(curve: "PRGAIN2")).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new AUC(numThresholds: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Precision(thresholds: [1.5]));
        Assert.Throws<ArgumentException>(() => new F1Score(average: "mean"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FBetaScore(beta: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new F1Score(threshold: 0));
    }
}
