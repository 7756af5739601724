using SeqSharp.Examples.AttentionForecast;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Examples;

[Collection(ExampleCollection.Name)]
public class AttentionForecastTests
{
    [Fact]
    public void Run_SmallForm_BeatsPersistenceAndDrawsTheAttentionWeights()
    {
        var log = new StringWriter();
        using var folder = new TempFolder();
        var result = ExampleCollection.SingleThreaded(() => AttentionForecastExample.Run(AttentionOptions.Small, log, folder.Path));
        Assert.True(result.AttentionRmse < result.PersistenceRmse, $"attention RMSE {result.AttentionRmse:F2} vs persistence {result.PersistenceRmse:F2}\n{log}");
        Assert.True(result.LstmRmse < result.PersistenceRmse, $"LSTM RMSE {result.LstmRmse:F2} vs persistence {result.PersistenceRmse:F2}\n{log}");
        // The weights: one distribution over the 48 input hours per forecast hour.
        Assert.Equal(AttentionForecastExample.Horizon, result.Scores.shape[1]);
        Assert.Equal(AttentionForecastExample.Window, result.Scores.shape[2]);
        Assert.True((result.Scores.sum(-1) - 1).abs().max().item<float>() < 1e-5);
        Assert.True(result.Scores.min().item<float>() >= 0);
        foreach (var picture in new[] { "attention-weights.png", "attention-weights-sample0.png" })
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, File.ReadAllBytes(Path.Combine(folder.Path, picture))[..4]);   // a PNG
        string text = log.ToString();
        Assert.Contains("(Attention)", text);
        Assert.Contains("naive: same hours yesterday", text);
    }

    [Fact]
    public void ScoresModel_SharesTheForecastersLayers()
    {
        // The model with the attention weights is built from the forecaster's layers: the same
        // forecast, and its weights are the forecaster's (no copy).
        Utils.ClearSession();
        Utils.SetRandomSeed(5);
        var models = AttentionForecastExample.BuildAttentionModel(units: 8);
        var x = randn(5, AttentionForecastExample.Window, 2);
        var forecast = models.Forecaster.Predict(x, verbose: 0);
        var both = models.WithScores.PredictMulti(x, verbose: 0);
        Assert.Equal(new long[] { 5, AttentionForecastExample.Horizon }, forecast.shape);
        Assert.Equal(0f, (both[0] - forecast).abs().max().item<float>());
        Assert.Equal(new long[] { 5, AttentionForecastExample.Horizon, AttentionForecastExample.Window }, both[1].shape);
        Assert.Equal(models.Forecaster.CountParams(), models.WithScores.CountParams());
        var dense = models.Forecaster.Layers.Single(l => l.Name == "demand");
        var weights = dense.GetWeights();
        dense.SetWeights([weights[0], weights[1] + 10f]);                                    // the Dense bias, through the forecaster
        Assert.True((models.WithScores.PredictMulti(x, verbose: 0)[0] - forecast - 10f).abs().max().item<float>() < 1e-5);
    }
}
