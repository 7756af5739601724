using static TorchSharp.torch;

namespace SeqSharp.Examples.SelfSupervised;

/// <summary>
/// Synthetic "heartbeat-like" waveforms in four classes, made up for this example (not medical data).
/// Each sequence is a train of pulses with a random phase (the first pulse anywhere in the first
/// period), amplitude U(0.8, 1.2) and Gaussian noise of standard deviation 0.3 at every step:
/// <list type="number">
/// <item><c>narrow</c>: narrow Gaussian pulses (sd 1 step), period U(14, 18) steps;</item>
/// <item><c>fast</c>: the same pulses, period U(8, 11);</item>
/// <item><c>wide</c>: wide pulses (sd 3 steps), period U(14, 18);</item>
/// <item><c>biphasic</c>: a negative half-pulse followed by a positive one (a derivative of a Gaussian, sd 1.5), period U(14, 18).</item>
/// </list>
/// </summary>
public static class WaveformData
{
    /// <summary>Class names in label order.</summary>
    public static readonly string[] Classes = ["narrow", "fast", "wide", "biphasic"];

    /// <summary>Draws <paramref name="count"/> sequences of <paramref name="steps"/> values: <c>(count, steps, 1)</c> and labels 0..3.</summary>
    public static (Tensor X, long[] Labels) Generate(int count, int steps, Random random)
    {
        var x = new float[count, steps, 1];
        var labels = new long[count];
        for (int n = 0; n < count; n++)
        {
            int label = random.Next(Classes.Length);
            labels[n] = label;
            double period = label == 1 ? 8 + 3 * random.NextDouble() : 14 + 4 * random.NextDouble();
            double phase = period * random.NextDouble();
            double amplitude = 0.8 + 0.4 * random.NextDouble();
            for (int t = 0; t < steps; t++)
            {
                double value = 0;
                for (double centre = phase - period; centre < steps + period; centre += period)
                {
                    double d = t - centre;
                    value += label switch
                    {
                        2 => Math.Exp(-d * d / (2 * 9.0)),
                        3 => -d / 1.5 * Math.Exp(0.5 - d * d / (2 * 2.25)),
                        _ => Math.Exp(-d * d / 2.0),
                    };
                }
                x[n, t, 0] = (float)(amplitude * value + 0.3 * Normal(random));
            }
        }
        return (tensor(x), labels);
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
