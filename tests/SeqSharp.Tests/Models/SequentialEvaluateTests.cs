using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Models;

/// <summary><c>Evaluate</c> against values computed by hand from <c>Predict</c>, and <c>Predict</c> building a model.</summary>
public class SequentialEvaluateTests
{
    private const ScalarType F64 = ScalarType.Float64;

    [Theory]
    [InlineData(4)]    // 4 + 4 + 3
    [InlineData(5)]    // 5 + 5 + 1
    [InlineData(32)]   // one batch
    public void Evaluate_UnevenLastBatch_LossAndMetricsEqualHandValuesOverAllSamples(int batchSize)
    {
        var model = TinyModels.LstmDense(F64);
        var (x, y) = TinyModels.Data(11, F64);
        model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae", "rmse"]);

        var scores = model.Evaluate(x, y, batchSize: batchSize, verbose: 0);

        var error = model.Predict(x, verbose: 0).to_type(F64) - y;
        double mse = error.square().mean().item<double>();
        Assert.Equal(new[] { "loss", "mae", "rmse" }, scores.Keys);
        Assert.Equal(mse, scores["loss"], 1e-6);
        Assert.Equal(error.abs().mean().item<double>(), scores["mae"], 1e-6);
        Assert.Equal(Math.Sqrt(mse), scores["rmse"], 1e-6);
    }

    [Fact]
    public void Evaluate_PerBatchMeanWouldDiffer_SoTheTestCanTellThemApart()
    {
        // With batches of 4, 4 and 3 a plain mean of batch means differs from the mean over samples.
        var model = TinyModels.LstmDense(F64);
        var (x, y) = TinyModels.Data(11, F64);
        // Targets of the short last batch sit far from the rest, so its mean error differs from the others' whatever the draw.
        y[8..].add_(10.0);
        model.Compile(loss: "mae");
        var error = (model.Predict(x, verbose: 0).to_type(F64) - y).abs();
        double overSamples = error.mean().item<double>();
        double overBatches = new[] { error[..4], error[4..8], error[8..] }.Average(b => b.mean().item<double>());
        Assert.True(Math.Abs(overSamples - overBatches) > 1e-2, $"over samples {overSamples}, over batches {overBatches}");
        Assert.Equal(overSamples, model.Evaluate(x, y, batchSize: 4, verbose: 0)["loss"], 1e-6);
    }

    [Fact]
    public void Evaluate_SampleWeights_EqualHandWeightedLoss()
    {
        var model = TinyModels.LstmDense(F64);
        var (x, y) = TinyModels.Data(10, F64);
        var weights = tensor(new double[] { 0, 1, 0, 2, 0, 3, 0, 1, 0, 0.5 });
        model.Compile(loss: "mse", metrics: ["mae"]);

        var scores = model.Evaluate(x, y, batchSize: 3, verbose: 0, sampleWeight: weights);

        // Keras: per-sample values times weights, summed, divided by the number of values (not by the weights).
        var perStep = (model.Predict(x, verbose: 0).to_type(F64) - y).square().mean([-1]);   // (10, 5)
        double expected = (perStep * weights.unsqueeze(1)).sum().item<double>() / 50;
        Assert.Equal(expected, scores["loss"], 1e-6);
        // Metrics are weighted means (Keras's MeanMetricWrapper): divided by the weights.
        var absolute = (model.Predict(x, verbose: 0).to_type(F64) - y).abs().mean([-1]);
        double weightedMae = (absolute * weights.unsqueeze(1)).sum().item<double>() / (weights.sum().item<double>() * 5);
        Assert.Equal(weightedMae, scores["mae"], 1e-6);
    }

    [Fact]
    public void Evaluate_ChangesNoWeightsAndRestoresTrainingMode()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(6);
        model.Compile(optimizer: "adam", loss: "mse");
        var before = model.GetWeights();
        model.train(true);
        model.Evaluate(x, y, verbose: 0);
        Assert.True(model.training);
        TinyModels.AssertSameWeights(before, model.GetWeights());
        Assert.False(model.Optimizer!.Built);
    }

    [Fact]
    public void Evaluate_FloatAndDoubleArrays_SameScoresAsTensor()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(7);
        model.Compile(loss: "mse", metrics: ["mae"]);
        var xs = new float[7, TinyModels.Steps, TinyModels.Features];
        var ys = new double[7, TinyModels.Steps, 1];
        for (int i = 0; i < 7; i++)
        for (int t = 0; t < TinyModels.Steps; t++)
        {
            for (int f = 0; f < TinyModels.Features; f++)
                xs[i, t, f] = x[i, t, f].item<float>();
            ys[i, t, 0] = y[i, t, 0].item<float>();
        }

        var fromTensor = model.Evaluate(x, y, batchSize: 3, verbose: 0);
        var fromArrays = model.Evaluate(xs, ys, batchSize: 3, verbose: 0);

        Assert.Equal(fromTensor["loss"], fromArrays["loss"]);
        Assert.Equal(fromTensor["mae"], fromArrays["mae"]);
    }

    [Fact]
    public void Predict_NeverFittedModelWithoutInputShape_BuildsItSilently()
    {
        var model = new Sequential([new LSTM(3, returnSequences: true), new Dense(2)]);
        Assert.False(model.Built);
        var x = randn(4, 6, 5);

        var y = model.Predict(x, verbose: 0);

        Assert.True(model.Built);
        Assert.Equal(new long[] { 4, 6, 2 }, y.shape);
        Assert.Equal(ScalarType.Float32, y.dtype);
        Assert.Equal(3 * 4 * (5 + 3 + 1) + 3 * 2 + 2, model.CountParams());
    }
}
