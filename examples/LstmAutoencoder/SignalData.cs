using static TorchSharp.torch;

namespace SeqSharp.Examples.LstmAutoencoder;

/// <summary>The kinds of fault injected into otherwise normal sequences.</summary>
public enum Anomaly
{
    /// <summary>A normal sequence.</summary>
    None,

    /// <summary>A one-step spike of 0.4 to 0.8 (the normal amplitude is about 1).</summary>
    Spike,

    /// <summary>The level jumps by 0.3 and stays for the rest of the sequence.</summary>
    LevelShift,

    /// <summary>Ten steps with four times the normal noise.</summary>
    NoiseBurst,

    /// <summary>The oscillation stops (a stuck sensor): the value freezes.</summary>
    Flatline,
}

/// <summary>
/// Sensor-like sequences: a sine wave of random phase, an amplitude and period within a normal
/// operating band, and light measurement noise. Anomalous sequences carry one fault each.
/// </summary>
public static class SignalData
{
    public const int Steps = 40;

    /// <summary>Generates <paramref name="count"/> sequences <c>(count, Steps, 1)</c> with the given fault (or none).</summary>
    public static Tensor Generate(int count, Anomaly anomaly, Random random)
    {
        double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var values = new float[count, Steps, 1];
        for (int i = 0; i < count; i++)
        {
            double phase = 2 * Math.PI * random.NextDouble();
            double period = 12 + 6 * random.NextDouble();
            double amplitude = 0.8 + 0.4 * random.NextDouble();
            int start = 8 + random.Next(Steps - 16);
            double frozen = 0;
            for (int t = 0; t < Steps; t++)
            {
                double v = amplitude * Math.Sin(2 * Math.PI * t / period + phase) + 0.05 * Gaussian();
                switch (anomaly)
                {
                    case Anomaly.Spike when t == start:
                        v += (random.Next(2) == 0 ? -1 : 1) * (0.4 + 0.4 * random.NextDouble());
                        break;
                    case Anomaly.LevelShift when t >= start:
                        v += 0.3;
                        break;
                    case Anomaly.NoiseBurst when t >= start && t < start + 10:
                        v += 0.2 * Gaussian();
                        break;
                    case Anomaly.Flatline when t == start:
                        frozen = v;
                        break;
                    case Anomaly.Flatline when t > start:
                        v = frozen + 0.05 * Gaussian();
                        break;
                }
                values[i, t, 0] = (float)v;
            }
        }
        return tensor(values);
    }
}
