using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace SeqSharp.Plotting;

/// <summary>The look every plot shares (embedded font, readable sizes) and the one way a plot is written.</summary>
internal static class Figure
{
    /// <summary>Width of data lines, in pixels.</summary>
    public const float LineWidth = 2;

    /// <summary>A plot with the embedded font, its title and axis labels.</summary>
    public static Plot New(string title, string xLabel, string yLabel)
    {
        EmbeddedFontResolver.EnsureRegistered();
        var plot = new Plot();
        plot.Font.Set(EmbeddedFontResolver.FamilyName);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.Axes.Title.Label.FontSize = 18;
        plot.Axes.Bottom.Label.FontSize = 15;
        plot.Axes.Left.Label.FontSize = 15;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 12;
        plot.Axes.Left.TickLabelStyle.FontSize = 12;
        plot.Axes.Bottom.TickGenerator = Ticks();
        plot.Axes.Left.TickGenerator = Ticks();
        return plot;
    }

    /// <summary>Automatic numeric ticks labelled by <see cref="FormatTick"/> (no thousands separators).</summary>
    public static NumericAutomatic Ticks(bool integersOnly = false) =>
        new() { IntegerTicksOnly = integersOnly, LabelFormatter = FormatTick };

    /// <summary>
    /// A tick label in invariant culture without grouping, so that years read 1959, not 1,959: plain
    /// decimals up to six places between 1e-4 and 1e7, scientific notation outside.
    /// </summary>
    public static string FormatTick(double value)
    {
        double magnitude = Math.Abs(value);
        if (value != 0 && (magnitude < 1e-4 || magnitude >= 1e7))
            return value.ToString("G3", CultureInfo.InvariantCulture);
        return Math.Round(value, 6).ToString("0.######", CultureInfo.InvariantCulture);
    }

    /// <summary>Shows the legend right of the data area, where it hides no curve, with the embedded font.</summary>
    public static void ShowLegend(Plot plot)
    {
        plot.ShowLegend(Edge.Right);
        plot.Legend.FontName = EmbeddedFontResolver.FamilyName;
        plot.Legend.FontSize = 13;
    }

    /// <summary>Writes the plot as a PNG of the given size, creating the folder; returns the full path.</summary>
    public static string Save(Plot plot, string path, int width, int height)
    {
        string full = Prepare(path);
        plot.SavePng(full, width, height);
        return full;
    }

    /// <summary>Writes the stacked plots as one PNG of the given size, creating the folder; returns the full path.</summary>
    public static string Save(Multiplot figure, string path, int width, int height)
    {
        string full = Prepare(path);
        figure.SavePng(full, width, height);
        return full;
    }

    private static string Prepare(string path)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        return full;
    }
}
