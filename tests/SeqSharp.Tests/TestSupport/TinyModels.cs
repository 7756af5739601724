using SeqSharp.Layers;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.TestSupport;

/// <summary>Small models and data for the training tests.</summary>
internal static class TinyModels
{
    public const int Steps = 5;
    public const int Features = 2;

    /// <summary>
    /// LSTM(4) → Dense(1) on <c>(5, 2)</c> inputs (the document's model, smaller), with non-zero biases.
    /// Outputs <c>(batch, 5, 1)</c>, or <c>(batch, 1)</c> without <paramref name="returnSequences"/>.
    /// </summary>
    public static Sequential LstmDense(ScalarType dtype = ScalarType.Float32, bool returnSequences = true, string recurrent = "lstm")
    {
        Layer first = recurrent switch
        {
            "lstm" => new LSTM(4, inputShape: [Steps, Features], returnSequences: returnSequences, dtype: dtype),
            "simple_rnn" => new SimpleRNN(4, inputShape: [Steps, Features], returnSequences: returnSequences, dtype: dtype),
            _ => throw new ArgumentOutOfRangeException(nameof(recurrent)),
        };
        var model = new Sequential([first, new Dense(1, dtype: dtype)]);
        using (no_grad())
        {
            foreach (var layer in model.Layers)
                layer.Weights[^1].uniform_(-0.5, 0.5);
        }
        return model;
    }

    /// <summary>Random inputs <c>(n, 5, 2)</c> and targets shaped like <see cref="LstmDense"/>'s output.</summary>
    public static (Tensor X, Tensor Y) Data(long n, ScalarType dtype = ScalarType.Float32, bool returnSequences = true) =>
        (randn(n, Steps, Features, dtype: dtype), returnSequences ? randn(n, Steps, 1, dtype: dtype) : randn(n, 1, dtype: dtype));

    /// <summary>Exact equality of two weight lists.</summary>
    public static void AssertSameWeights(IReadOnlyList<Tensor> expected, IReadOnlyList<Tensor> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int k = 0; k < expected.Count; k++)
            Assert.True(expected[k].shape.SequenceEqual(actual[k].shape) && expected[k].allclose(actual[k], rtol: 0, atol: 0), $"Weight {k} differs.");
    }
}
