using static TorchSharp.torch;

namespace SeqSharp.Examples.CnnLstmForecast;

/// <summary>
/// An hourly electricity-demand series driven by temperature, the kind of multivariate series a
/// CNN-LSTM forecaster is used for. Temperature has a daily cycle, a slow weather drift and
/// noise; demand has its own daily cycle (morning and evening peaks), follows temperature with a
/// two-hour lag (heating below 16 °C, cooling above 22 °C) and has persistent noise. Neither
/// "same as now" nor "same as yesterday" forecasts it well.
/// </summary>
public static class DemandData
{
    /// <summary>Generates <paramref name="hours"/> rows of (temperature °C, demand MW).</summary>
    public static float[,] Generate(int hours, int seed)
    {
        var random = new Random(seed);
        double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

        var series = new float[hours, 2];
        var temperature = new double[hours];
        double weather = 0, noise = 0;
        for (int t = 0; t < hours; t++)
        {
            double hourOfDay = t % 24;
            weather = 0.995 * weather + 0.35 * Gaussian();                      // multi-day warm and cold spells
            temperature[t] = 18 + 6 * Math.Sin(2 * Math.PI * (hourOfDay - 9) / 24) + weather + 0.5 * Gaussian();
            double lagged = temperature[Math.Max(t - 2, 0)];
            double comfort = 2.5 * Math.Max(16 - lagged, 0) + 3.0 * Math.Max(lagged - 22, 0);
            double daily = 12 * Math.Exp(-Math.Pow(hourOfDay - 8, 2) / 4) + 18 * Math.Exp(-Math.Pow(hourOfDay - 19, 2) / 6);
            noise = 0.8 * noise + 1.5 * Gaussian();
            series[t, 0] = (float)temperature[t];
            series[t, 1] = (float)(100 + daily + comfort + noise);
        }
        return series;
    }

    /// <summary>
    /// Sliding windows: inputs <c>(samples, window, 2)</c> of both series, targets
    /// <c>(samples, horizon)</c> of the demand in the <paramref name="horizon"/> hours after each window.
    /// </summary>
    public static (Tensor X, Tensor Y) Windows(Tensor series, int window, int horizon)
    {
        long samples = series.shape[0] - window - horizon + 1;
        var x = stack(Enumerable.Range(0, (int)samples).Select(i => series[i..(i + window)]).ToArray(), 0);
        var y = stack(Enumerable.Range(0, (int)samples).Select(i => series[(i + window)..(i + window + horizon), 1]).ToArray(), 0);
        return (x, y);
    }
}
