using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Examples.LongRangeMemory;

/// <summary>
/// The adding problem of Hochreiter &amp; Schmidhuber (1997), in the form most papers since use
/// (e.g. Le, Jaitly &amp; Hinton 2015): each input step has two channels, a value drawn uniformly
/// from [0, 1] and a marker; exactly two steps are marked with 1, one uniformly in the first half
/// of the sequence (steps 0 .. T/2 − 1) and one uniformly in the second half (T/2 .. T − 1). The
/// target is the sum of the two marked values. Predicting the mean, 1, scores MSE
/// Var(U1 + U2) = 2/12 ≈ 0.167, so a model must carry a value across up to T steps to do better.
/// </summary>
public static class AddingProblem
{
    /// <summary>The MSE of always predicting the mean target 1: the variance of the sum of two U(0, 1) values.</summary>
    public const double MeanPredictorMse = 2.0 / 12.0;

    /// <summary>
    /// Draws <paramref name="samples"/> sequences of length <paramref name="steps"/> from TorchSharp's
    /// generator: inputs <c>(samples, steps, 2)</c> (value, marker) and targets <c>(samples, 1)</c>.
    /// </summary>
    public static (Tensor X, Tensor Y) Generate(int samples, int steps)
    {
        if (steps < 2)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, "The adding problem needs at least 2 steps.");
        var values = rand(samples, steps);
        int half = steps / 2;
        var first = randint(0, half, [samples, 1], dtype: ScalarType.Int64);
        var second = randint(half, steps, [samples, 1], dtype: ScalarType.Int64);
        var markers = zeros(samples, steps)
            .scatter_(1, first, ones(samples, 1))
            .scatter_(1, second, ones(samples, 1));
        var y = values.gather(1, first) + values.gather(1, second);
        return (stack([values, markers], dim: 2), y);
    }
}
