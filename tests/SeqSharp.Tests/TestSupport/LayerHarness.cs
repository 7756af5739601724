using System.Text.Json;
using SeqSharp.Layers;

namespace SeqSharp.Tests.TestSupport;

/// <summary>
/// Keras's <c>run_layer_test</c> for SeqSharp layers: output shape (from a call and from
/// <c>ComputeOutputShape</c>), weight counts, config round trip, and one training step through
/// <c>Sequential.Fit</c> that moves every trainable weight.
/// </summary>
internal static class LayerHarness
{
    /// <summary>Runs every check; returns the output of the first (inference-mode) call.</summary>
    /// <param name="layer">A fresh, unbuilt layer.</param>
    /// <param name="input">A batch of inputs.</param>
    /// <param name="expectedOutputShape">The output shape, batch axis included.</param>
    /// <param name="trainableWeights">The expected number of trainable weight tensors.</param>
    /// <param name="nonTrainableWeights">The expected number of non-trainable weight tensors.</param>
    /// <param name="parameters">The expected parameter count (Keras's summary), or null to skip.</param>
    /// <param name="train">Whether to run the training step (layers without trainable weights never do).</param>
    public static Tensor Run(Layer layer, Tensor input, long[] expectedOutputShape, int trainableWeights = 0, int nonTrainableWeights = 0,
        long? parameters = null, bool train = true)
    {
        Assert.False(layer.Built);
        ConfigRoundTrip(layer);
        var y = layer.Call(input);
        Assert.Equal(expectedOutputShape, y.shape);
        Assert.Equal(expectedOutputShape[1..], layer.ComputeOutputShape(input.shape[1..]));
        Assert.Equal(expectedOutputShape[1..], layer.OutputShape);
        Assert.Equal(trainableWeights, layer.TrainableWeights.Count);
        Assert.Equal(nonTrainableWeights, layer.NonTrainableWeights.Count);
        Assert.Equal(trainableWeights + nonTrainableWeights, layer.GetWeights().Count);
        if (parameters is long count)
            Assert.Equal(count, layer.CountParams());
        ConfigRoundTrip(layer);
        if (train && trainableWeights > 0)
            TrainOneStep(layer, input, y);
        return y;
    }

    /// <summary>
    /// The config survives <see cref="Layer.FromConfig"/>, from CLR values and from JSON, and the
    /// rebuilt layer has the same class and config.
    /// </summary>
    public static void ConfigRoundTrip(Layer layer)
    {
        var config = layer.GetConfig();
        string json = Json(config);
        var rebuilt = Layer.FromConfig(layer.ClassName, config);
        Assert.IsType(layer.GetType(), rebuilt);
        Assert.Equal(json, Json(rebuilt.GetConfig()));

        var parsed = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!
            .ToDictionary(p => p.Key, p => (object?)p.Value);
        var fromJson = Layer.FromConfig(layer.ClassName, parsed);
        Assert.Equal(json, Json(fromJson.GetConfig()));
    }

    public static string Json(IReadOnlyDictionary<string, object?> config) => JsonSerializer.Serialize(config);

    /// <summary>One Fit step (SGD, mse against a random target); every trainable weight must move.</summary>
    private static void TrainOneStep(Layer layer, Tensor input, Tensor output)
    {
        var before = layer.TrainableWeights.Select(w => w.detach().clone()).ToList();
        var model = new Sequential([layer]);
        model.Compile(optimizer: new SeqSharp.Optimizers.SGD(learningRate: 0.1), loss: "mse");
        var target = randn_like(output.to_type(ScalarType.Float32));
        model.Fit(input, target, batchSize: (int)input.shape[0], epochs: 1, verbose: 0, shuffle: false);
        Assert.False(model.training);
        var after = layer.TrainableWeights;
        for (int k = 0; k < before.Count; k++)
            Assert.False(before[k].equal(after[k].detach()).all().item<bool>(), $"{layer.ClassName}: trainable weight {k} did not change in a training step.");
    }
}
