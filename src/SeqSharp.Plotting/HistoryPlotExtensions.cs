using ScottPlot;

namespace SeqSharp.Plotting;

/// <summary>Training curves of a <see cref="History"/> as a PNG file.</summary>
public static class HistoryPlotExtensions
{
    /// <summary>
    /// Plots training curves, one panel per metric stacked top to bottom, each with the training
    /// curve and, when recorded, the validation curve (<c>val_</c> + name), over the epochs.
    /// </summary>
    /// <param name="history">The history <c>Fit</c> returned.</param>
    /// <param name="path">The PNG file to write; its folder is created if missing.</param>
    /// <param name="metrics">
    /// Names to plot, as logged without the <c>val_</c> prefix (<c>"loss"</c>, <c>"mae"</c>, ...);
    /// none means <c>"loss"</c>. Names differ in scale, so each gets its own panel and y axis.
    /// </param>
    /// <returns>The full path of the file written.</returns>
    /// <remarks>
    /// The x axis counts epochs from 1, as Keras's progress bar does (<see cref="History.Epochs"/> + 1).
    /// A name first logged after the first epoch (a callback that starts logging late) is drawn over the
    /// last epochs. Use the overload with <c>width</c>, <c>height</c> and <c>title</c> to change the image.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// The history is empty, or a name was not recorded (the message lists those that were); no file is written.
    /// </exception>
    /// <example>
    /// <code>
    /// History history = model.Fit(x, y, epochs: 20, validationSplit: 0.2);
    /// history.Plot("loss.png");                 // loss and val_loss
    /// history.Plot("curves.png", "loss", "mae"); // two panels
    /// </code>
    /// </example>
    public static string Plot(this History history, string path, params string[] metrics) =>
        history.Plot(path, metrics, width: 800, height: 0, title: "Training history");

    /// <summary>
    /// Plots training curves like <see cref="Plot(History, string, string[])"/>, with the image size and title given.
    /// </summary>
    /// <param name="history">The history <c>Fit</c> returned.</param>
    /// <param name="path">The PNG file to write; its folder is created if missing.</param>
    /// <param name="metrics">Names to plot without the <c>val_</c> prefix; empty means <c>"loss"</c>.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels; 0 means 450 per panel.</param>
    /// <param name="title">Title above the first panel; each panel also names its metric.</param>
    /// <returns>The full path of the file written.</returns>
    /// <exception cref="ArgumentException">
    /// The history is empty, a name was not recorded (the message lists those that were), or the size is not
    /// positive; no file is written.
    /// </exception>
    public static string Plot(this History history, string path, IReadOnlyList<string> metrics, int width = 800, int height = 0,
        string title = "Training history")
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(metrics);
        string[] names = metrics.Count == 0 ? ["loss"] : [.. metrics];
        if (height == 0)
            height = 450 * names.Length;
        PlotInput.CheckTarget(path, width, height);
        if (history.Epochs.Count == 0)
            throw new ArgumentException("Expected a history with at least one epoch. Received: an empty history (Fit ran no epoch).", nameof(history));
        foreach (string name in names)
        {
            if (string.IsNullOrEmpty(name) || name.StartsWith("val_", StringComparison.Ordinal) || !history.ContainsKey(name))
                throw new ArgumentException(
                    $"Expected metric names recorded in the history, without the 'val_' prefix. Received: '{name}'. " +
                    $"Recorded: {string.Join(", ", history.Keys)}.", nameof(metrics));
        }

        double first = history.Epochs[0] + 1, last = history.Epochs[^1] + 1;
        double pad = Math.Max(0.5, 0.03 * (last - first));
        var panels = new List<ScottPlot.Plot>();
        try
        {
            for (int i = 0; i < names.Length; i++)
            {
                string name = names[i];
                string panelTitle = i == 0 && !string.IsNullOrEmpty(title) ? $"{title}: {name}" : name;
                var plot = Figure.New(panelTitle, "epoch", name);
                panels.Add(plot);
                AddCurve(plot, history, name, name);
                if (history.ContainsKey("val_" + name))
                    AddCurve(plot, history, "val_" + name, "val_" + name);
                Figure.ShowLegend(plot);
                // Whole epochs only: a fractional epoch tick is noise.
                plot.Axes.Bottom.TickGenerator = Figure.Ticks(integersOnly: true);
                // Every panel spans all epochs, so a name logged late lines up with the others.
                plot.Axes.SetLimitsX(first - pad, last + pad);
            }
            var figure = new Multiplot();
            figure.Reset(panels[0]);
            foreach (var panel in panels.Skip(1))
                figure.AddPlot(panel);
            return Figure.Save(figure, path, width, height);
        }
        finally
        {
            foreach (var panel in panels)
                panel.Dispose();
        }
    }

    private static void AddCurve(ScottPlot.Plot plot, History history, string key, string label)
    {
        var values = history[key];
        var epochs = history.Epochs;
        int offset = epochs.Count - values.Count;
        double[] xs = new double[values.Count];
        double[] ys = new double[values.Count];
        for (int e = 0; e < values.Count; e++)
        {
            xs[e] = epochs[e + offset] + 1;
            ys[e] = values[e];
        }
        var line = plot.Add.Scatter(xs, ys);
        line.LegendText = label;
        line.LineWidth = Figure.LineWidth;
        line.MarkerSize = values.Count <= 50 ? 6 : 0;
    }
}
