using SeqSharp.Examples.SelfSupervised;

namespace SeqSharp.Tests.Examples;

public class SelfSupervisedTests
{
    [Fact]
    public void Generate_FourClassesWithTheirPulseShapes()
    {
        var (x, labels) = WaveformData.Generate(400, 48, new Random(3));
        Assert.Equal(new long[] { 400, 48, 1 }, x.shape);
        Assert.All(Enumerable.Range(0, 4), c => Assert.InRange(labels.Count(l => l == c), 60, 140));
        // Biphasic pulses swing both ways: their minimum is far below the others' (noise sd 0.3 only).
        var minima = x.amin([1, 2]).data<float>().ToArray();
        double biphasic = Enumerable.Range(0, 400).Where(i => labels[i] == 3).Average(i => minima[i]);
        double narrow = Enumerable.Range(0, 400).Where(i => labels[i] == 0).Average(i => minima[i]);
        Assert.True(biphasic < narrow - 0.4, $"mean minimum: biphasic {biphasic:F2}, narrow {narrow:F2}");
        // Same seed, same data.
        var (again, _) = WaveformData.Generate(400, 48, new Random(3));
        Assert.True(x.eq(again).all().item<bool>());
    }
}
