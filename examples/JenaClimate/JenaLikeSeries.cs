namespace SeqSharp.Examples.JenaClimate;

/// <summary>
/// A synthetic weather record with the layout of the Jena climate file: one row every ten minutes,
/// the file's fourteen readings in its column order, physically consistent with each other.
/// </summary>
/// <remarks>
/// <para>The Jena file (Max Planck Institute for Biogeochemistry, 420,551 rows, 2009-2016) is not
/// available offline, so the example makes a series like it from a seed. What is modelled:</para>
/// <list type="bullet">
/// <item>Temperature: a yearly cycle (about 1 °C in January to 18 °C in July), a daily cycle peaking in
/// the afternoon whose amplitude grows in summer, and two weather anomalies: one that follows the
/// large-scale pressure pattern with a delay of a day (a front shows in the barometer before it
/// arrives) and one that nothing else shows; both are slow autoregressive processes.</item>
/// <item>Pressure: about 989 mbar, falling as the weather pattern rises.</item>
/// <item>Humidity: a dew-point depression that follows the daily cycle, the season and its own slow
/// process; the vapour pressures follow from the temperatures by the Magnus formula, then relative
/// humidity, vapour-pressure deficit, specific humidity, water-vapour concentration, potential
/// temperature and air density follow from their definitions.</item>
/// <item>Wind: a log-normal speed with gusts, and a direction that drifts.</item>
/// </list>
/// <para>So the temperature 24 hours ahead is partly predictable from the recent past (the pressure's
/// lead, the anomalies' mean reversion, the season and the time of day), as in the real file, and the
/// naive "no change" forecast is a fair baseline.</para>
/// </remarks>
public static class JenaLikeSeries
{
    /// <summary>Rows per day (one every ten minutes).</summary>
    public const int RowsPerDay = 144;

    /// <summary>The Jena file's column names, in its order.</summary>
    public static readonly string[] Columns =
    [
        "p (mbar)", "T (degC)", "Tpot (K)", "Tdew (degC)", "rh (%)", "VPmax (mbar)", "VPact (mbar)",
        "VPdef (mbar)", "sh (g/kg)", "H2OC (mmol/mol)", "rho (g/m**3)", "wv (m/s)", "max. wv (m/s)", "wd (deg)",
    ];

    /// <summary>The column of the temperature, the forecast target (<c>float_data[:, 1]</c> in the script).</summary>
    public const int Temperature = 1;

    /// <summary>The column of the pressure.</summary>
    public const int Pressure = 0;

    /// <summary>Makes <paramref name="days"/> days of ten-minute rows, shape <c>(days · 144, 14)</c>, starting on 1 January at midnight.</summary>
    public static float[,] Generate(int days, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(days, 2);
        var random = new Random(seed);
        int n = days * RowsPerDay;
        var rows = new float[n, Columns.Length];

        // Slow processes: AR(1) at ten-minute steps with unit variance and the given correlation time.
        var pattern = new Ar1(random, days: 3.0);        // large-scale weather pattern, seen in pressure
        var hidden = new Ar1(random, days: 1.5);         // a temperature anomaly nothing else shows
        var moisture = new Ar1(random, days: 2.0);       // dew-point depression
        var wind = new Ar1(random, days: 0.5);
        var veer = new Ar1(random, days: 1.0);
        var dayAgo = new double[RowsPerDay];             // the pattern a day ago reaches the temperature now

        for (int i = 0; i < n; i++)
        {
            double day = (double)i / RowsPerDay, hour = (i % RowsPerDay) / 6.0;
            double f = pattern.Next(), g = hidden.Next(), m = moisture.Next(), w = wind.Next(), v = veer.Next();
            double front = dayAgo[i % RowsPerDay];
            dayAgo[i % RowsPerDay] = f;

            double season = -Math.Cos(2 * Math.PI * (day - 20) / 365.25);             // -1 in mid-January, +1 in mid-July
            double daily = -Math.Cos(2 * Math.PI * (hour - 3) / 24);                  // peak at 15:00
            double t = 9.5 + 8.5 * season + (3 + 2 * season) * daily + 4.0 * front + 1.2 * g + 0.15 * Gaussian(random);
            double p = 989 - 7.0 * f + 0.2 * Gaussian(random);
            double dew = t - Math.Max(0.3, 3.5 + 2.5 * daily + 1.5 * season + 1.8 * m);
            double vpMax = Magnus(t), vpAct = Magnus(dew);
            double speed = Math.Exp(0.6 + 0.45 * w + 0.15 * Math.Abs(f));
            double gust = speed * (1.4 + 0.3 * Math.Abs(Gaussian(random)));

            rows[i, 0] = (float)p;
            rows[i, 1] = (float)t;
            rows[i, 2] = (float)((t + 273.15) * Math.Pow(1000 / p, 0.2857));
            rows[i, 3] = (float)dew;
            rows[i, 4] = (float)(100 * vpAct / vpMax);
            rows[i, 5] = (float)vpMax;
            rows[i, 6] = (float)vpAct;
            rows[i, 7] = (float)(vpMax - vpAct);
            rows[i, 8] = (float)(622 * vpAct / (p - 0.378 * vpAct));
            rows[i, 9] = (float)(1000 * vpAct / p);
            rows[i, 10] = (float)(p * 100 / (287.05 * (t + 273.15)) * 1000);
            rows[i, 11] = (float)speed;
            rows[i, 12] = (float)gust;
            rows[i, 13] = (float)(((200 + 70 * v) % 360 + 360) % 360);
        }
        return rows;
    }

    /// <summary>Saturation vapour pressure over water in mbar (Magnus formula) at <paramref name="celsius"/>.</summary>
    public static double Magnus(double celsius) => 6.1078 * Math.Exp(17.27 * celsius / (celsius + 237.3));

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>x[i] = φ x[i−1] + √(1−φ²) ε: unit variance, correlation e^(−1) after <c>days</c>.</summary>
    private sealed class Ar1(Random random, double days)
    {
        private readonly double _phi = Math.Exp(-1 / (days * RowsPerDay));
        private double _x = Gaussian(random);

        public double Next() => _x = _phi * _x + Math.Sqrt(1 - _phi * _phi) * Gaussian(random);
    }
}
