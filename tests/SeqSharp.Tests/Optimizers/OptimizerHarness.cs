using SeqSharp.Optimizers;

namespace SeqSharp.Tests.Optimizers;

/// <summary>Runs an optimizer and its hand-written Keras reference side by side on <see cref="TinyProblem"/>.</summary>
internal static class OptimizerHarness
{
    /// <summary>The clipping modes every optimizer is tested with.</summary>
    public static TheoryData<string> ClipModes => new() { "clipnorm", "clipvalue", "global_clipnorm" };

    /// <summary>(clipnorm, clipvalue, globalClipnorm) for a mode, with limits the tiny problem's gradients exceed.</summary>
    public static (double? Clipnorm, double? Clipvalue, double? GlobalClipnorm) Clip(string mode) => mode switch
    {
        "clipnorm" => (0.05, null, null),
        "clipvalue" => (null, 0.04, null),
        "global_clipnorm" => (null, null, 0.08),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown clip mode."),
    };

    /// <summary>
    /// Takes <paramref name="steps"/> steps with both, each with the autograd gradient at its own current
    /// weights, and asserts after every step that the weights agree to <paramref name="tolerance"/>.
    /// </summary>
    public static void AssertMatchesHand(Optimizer optimizer, HandOptimizer hand, int steps = 3, bool withUnused = false,
        double tolerance = 1e-10, ScalarType dtype = ScalarType.Float64)
    {
        var parameters = TinyProblem.CreateParameters(withUnused, dtype);
        var weights = TinyProblem.InitialValues(withUnused);
        var initial = TinyProblem.InitialValues(withUnused);
        for (int step = 0; step < steps; step++)
        {
            TinyProblem.Backward(parameters);
            optimizer.Step(parameters);
            hand.Step(weights, TinyProblem.Gradients(weights));

            Assert.Equal(hand.Iterations, optimizer.Iterations);
            for (int i = 0; i < weights.Length; i++)
            {
                Assert.Equal(dtype, parameters[i].dtype);
                var ours = parameters[i].detach().to_type(ScalarType.Float64).data<double>().ToArray();
                double maxDiff = ours.Zip(weights[i], (a, b) => Math.Abs(a - b)).Max();
                Assert.True(maxDiff <= tolerance,
                    $"Step {step + 1}, variable {i}: max |ours - Keras formula| = {maxDiff:E3} > {tolerance:E1}.");
            }
        }
        // The comparison means something only if the weights moved well beyond the tolerance.
        double moved = weights.Take(2).Zip(initial).Max(p => p.First.Zip(p.Second, (a, b) => Math.Abs(a - b)).Max());
        Assert.True(moved > 1e4 * tolerance, $"The weights barely moved ({moved:E3}); the test would not detect a wrong update.");
    }
}
