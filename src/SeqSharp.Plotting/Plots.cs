using ScottPlot;
using ScottPlot.TickGenerators;
using static TorchSharp.torch;

namespace SeqSharp.Plotting;

/// <summary>
/// One call per PNG plot of a sequence model's data: predictions against targets over time, line charts,
/// and heatmaps over (time, unit) or (time, feature). Each call checks its arguments before drawing and
/// throws <see cref="ArgumentException"/> (expected vs received) without writing a file; each returns the
/// full path written and creates the folder if missing. Text uses a font embedded in this assembly, so
/// the plots render on machines without installed fonts or a display.
/// </summary>
public static partial class Plots
{
    private const int DefaultWidth = 800;
    private const int DefaultHeight = 450;

    /// <summary>
    /// Plots predicted and actual values over time (the target as one line, the prediction as another),
    /// with optional further series such as a naive baseline, drawn dashed.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="predicted">Predictions, shape <c>(n)</c> or <c>(n, 1)</c> (a <c>Dense(1)</c> output).</param>
    /// <param name="actual">Targets, same length as <paramref name="predicted"/>.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="x">Positions on the x axis, one per value; default <c>0 .. n-1</c>.</param>
    /// <param name="xLabel">x axis label.</param>
    /// <param name="yLabel">y axis label.</param>
    /// <param name="extraSeries">Further named series of the same length, e.g. <c>{ ["naive"] = lastValue }</c>.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the file written.</returns>
    /// <exception cref="ArgumentException">A tensor is not a series, a series is empty, or lengths differ.</exception>
    /// <example>
    /// <code>
    /// var yPred = model.Predict(xTest);                      // (n, 1)
    /// Plots.PredictionsVsTargets("pred.png", yPred, yTest);
    /// </code>
    /// </example>
    public static string PredictionsVsTargets(string path, Tensor predicted, Tensor actual, string title = "Predictions vs targets",
        double[]? x = null, string xLabel = "time step", string yLabel = "value",
        IReadOnlyDictionary<string, double[]>? extraSeries = null, int width = DefaultWidth, int height = DefaultHeight)
    {
        PlotInput.CheckTarget(path, width, height);
        return PredictionsVsTargets(path, PlotInput.Series(predicted, nameof(predicted)), PlotInput.Series(actual, nameof(actual)),
            title, x, xLabel, yLabel, extraSeries, width, height);
    }

    /// <summary>Plots predicted and actual values over time, given as arrays.</summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="predicted">Predictions, one per time step.</param>
    /// <param name="actual">Targets, same length as <paramref name="predicted"/>.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="x">Positions on the x axis, one per value; default <c>0 .. n-1</c>.</param>
    /// <param name="xLabel">x axis label.</param>
    /// <param name="yLabel">y axis label.</param>
    /// <param name="extraSeries">Further named series of the same length, drawn dashed.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the file written.</returns>
    /// <exception cref="ArgumentException">A series is empty or lengths differ.</exception>
    public static string PredictionsVsTargets(string path, double[] predicted, double[] actual, string title = "Predictions vs targets",
        double[]? x = null, string xLabel = "time step", string yLabel = "value",
        IReadOnlyDictionary<string, double[]>? extraSeries = null, int width = DefaultWidth, int height = DefaultHeight)
    {
        PlotInput.CheckTarget(path, width, height);
        PlotInput.Series(predicted, nameof(predicted));
        PlotInput.Series(actual, nameof(actual));
        PlotInput.SameLength(actual, predicted.Length, nameof(actual), nameof(predicted));
        double[] xs = XValues(x, predicted.Length, nameof(predicted));
        foreach (var (name, values) in extraSeries ?? new Dictionary<string, double[]>())
        {
            PlotInput.Series(values, $"{nameof(extraSeries)}[{name}]");
            PlotInput.SameLength(values, predicted.Length, $"{nameof(extraSeries)}[{name}]", nameof(predicted));
        }

        using var plot = Figure.New(title, xLabel, yLabel);
        AddLine(plot, xs, actual, "actual", markers: xs.Length <= 60);
        AddLine(plot, xs, predicted, "predicted", markers: xs.Length <= 60);
        foreach (var (name, values) in extraSeries ?? new Dictionary<string, double[]>())
            AddLine(plot, xs, values, name, markers: false).LinePattern = LinePattern.Dashed;
        Figure.ShowLegend(plot);
        return Figure.Save(plot, path, width, height);
    }

    /// <summary>
    /// A line chart of named series over shared x values (for example the error against sequence length of
    /// several models), optionally on a logarithmic y axis.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="xs">x values, shared by every series.</param>
    /// <param name="series">Named series, each with one value per x, drawn in order with markers.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="xLabel">x axis label.</param>
    /// <param name="yLabel">y axis label.</param>
    /// <param name="logY">Whether the y axis is logarithmic (base 10); every value must then be positive.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the file written.</returns>
    /// <exception cref="ArgumentException">
    /// No series, an empty or mismatched series, or a non-positive value on a log axis.
    /// </exception>
    /// <example>
    /// <code>
    /// Plots.Lines("mse.png", [10, 20, 50, 100],
    ///     new Dictionary&lt;string, double[]&gt; { ["SimpleRNN"] = rnn, ["LSTM"] = lstm, ["baseline"] = naive },
    ///     title: "MSE against sequence length", xLabel: "sequence length", yLabel: "MSE", logY: true);
    /// </code>
    /// </example>
    public static string Lines(string path, double[] xs, IReadOnlyDictionary<string, double[]> series, string title = "",
        string xLabel = "x", string yLabel = "y", bool logY = false, int width = DefaultWidth, int height = DefaultHeight)
    {
        PlotInput.CheckTarget(path, width, height);
        PlotInput.Series(xs, nameof(xs));
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0)
            throw new ArgumentException("Expected at least one named series. Received: none.", nameof(series));
        foreach (var (name, values) in series)
        {
            PlotInput.Series(values, $"{nameof(series)}[{name}]");
            PlotInput.SameLength(values, xs.Length, $"{nameof(series)}[{name}]", nameof(xs));
            if (logY && values.Any(v => !(v > 0)))
                throw new ArgumentException(
                    $"Expected positive values on a logarithmic y axis. Received: {values.First(v => !(v > 0)).ToString(System.Globalization.CultureInfo.InvariantCulture)} in '{name}'.", nameof(series));
        }

        using var plot = Figure.New(title, xLabel, yLabel);
        foreach (var (name, values) in series)
            AddLine(plot, xs, logY ? [.. values.Select(Math.Log10)] : values, name, markers: true);
        if (logY)
        {
            // ScottPlot draws a log axis as log10 of the data with ticks labelled back in data units.
            plot.Axes.Left.TickGenerator = new NumericAutomatic
            {
                MinorTickGenerator = new LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => Math.Pow(10, y).ToString("G4", System.Globalization.CultureInfo.InvariantCulture),
            };
        }
        Figure.ShowLegend(plot);
        return Figure.Save(plot, path, width, height);
    }

    /// <summary>
    /// A heatmap of a 2-D tensor, rows (units or features) up the y axis from 0, columns (time steps) along
    /// the x axis, with a colour bar.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="values">Values of shape <c>(rows, timesteps)</c>, finite.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="xLabel">x axis label.</param>
    /// <param name="yLabel">y axis label.</param>
    /// <param name="colorBarLabel">Label of the colour bar.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the file written.</returns>
    /// <exception cref="ArgumentException">The tensor is not 2-D, is empty, or holds NaN or infinity.</exception>
    public static string Heatmap(string path, Tensor values, string title = "", string xLabel = "time step", string yLabel = "unit",
        string colorBarLabel = "value", int width = DefaultWidth, int height = DefaultHeight)
    {
        PlotInput.CheckTarget(path, width, height);
        return Heatmap(path, PlotInput.Matrix(values, nameof(values)), title, xLabel, yLabel, colorBarLabel, width, height);
    }

    /// <summary>A heatmap of a <c>[rows, timesteps]</c> array; see <see cref="Heatmap(string, Tensor, string, string, string, string, int, int)"/>.</summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="values">Values, <c>[rows, timesteps]</c>, finite.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="xLabel">x axis label.</param>
    /// <param name="yLabel">y axis label.</param>
    /// <param name="colorBarLabel">Label of the colour bar.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the file written.</returns>
    /// <exception cref="ArgumentException">The array is empty or holds NaN or infinity.</exception>
    public static string Heatmap(string path, double[,] values, string title = "", string xLabel = "time step", string yLabel = "unit",
        string colorBarLabel = "value", int width = DefaultWidth, int height = DefaultHeight)
    {
        PlotInput.CheckTarget(path, width, height);
        PlotInput.Matrix(values, nameof(values));
        PlotInput.Finite(values, nameof(values));
        return DrawHeatmap(path, values, title, xLabel, yLabel, colorBarLabel, new ScottPlot.Colormaps.Viridis(), symmetric: false,
            rowNames: null, width, height);
    }

    /// <summary>
    /// A heatmap of gate activations over time (unit against time step) for one sample, for example an
    /// LSTM's forget gate recorded over a sequence.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="gate">Activations, <c>(batch, timesteps, units)</c> or <c>(timesteps, units)</c>.</param>
    /// <param name="sample">Which sample of the batch to show; 0 for a 2-D tensor.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the file written.</returns>
    /// <exception cref="ArgumentException">Wrong rank, empty, non-finite values, or a sample index out of range.</exception>
    /// <example>
    /// <code>
    /// Plots.GateHeatmap("forget.png", forgetGate, sample: 0, title: "LSTM forget gate");   // (batch, 50, 32)
    /// </code>
    /// </example>
    public static string GateHeatmap(string path, Tensor gate, int sample = 0, string title = "Gate activations",
        int width = DefaultWidth, int height = DefaultHeight)
    {
        PlotInput.CheckTarget(path, width, height);
        var values = PlotInput.SampleOverTime(gate, sample, nameof(gate), "units");
        PlotInput.Finite(values, nameof(gate));
        return DrawHeatmap(path, values, title, "time step", "unit", "activation", new ScottPlot.Colormaps.Viridis(), symmetric: false,
            rowNames: null, width, height);
    }

    /// <summary>
    /// A heatmap of attributions over (time step, feature) for one sample, with a diverging colour scale
    /// centred on zero (red positive, blue negative) and the features named on the y axis.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="attribution">Attributions, <c>(batch, timesteps, features)</c> or <c>(timesteps, features)</c>.</param>
    /// <param name="sample">Which sample of the batch to show; 0 for a 2-D tensor.</param>
    /// <param name="featureNames">One name per feature, shown bottom to top; default the feature indices.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the file written.</returns>
    /// <exception cref="ArgumentException">
    /// Wrong rank, empty, non-finite values, a sample index out of range, or a name count unequal to the features.
    /// </exception>
    /// <example>
    /// <code>
    /// Plots.AttributionHeatmap("attr.png", attributions, sample: 3, featureNames: ["price", "volume"]);
    /// </code>
    /// </example>
    public static string AttributionHeatmap(string path, Tensor attribution, int sample = 0, string[]? featureNames = null,
        string title = "Attribution", int width = DefaultWidth, int height = DefaultHeight)
    {
        PlotInput.CheckTarget(path, width, height);
        var values = PlotInput.SampleOverTime(attribution, sample, nameof(attribution), "features");
        PlotInput.Finite(values, nameof(attribution));
        if (featureNames is not null && featureNames.Length != values.GetLength(0))
            throw new ArgumentException(
                $"Expected one name per feature ({values.GetLength(0)}) in '{nameof(featureNames)}'. Received: {featureNames.Length}.",
                nameof(featureNames));
        // Balance runs blue (low) to red (high) through white at its middle.
        return DrawHeatmap(path, values, title, "time step", "feature", "attribution", new ScottPlot.Colormaps.Balance(), symmetric: true,
            featureNames, width, height);
    }

    private static double[] XValues(double[]? x, int count, string reference)
    {
        if (x is null)
            return [.. Enumerable.Range(0, count).Select(i => (double)i)];
        PlotInput.SameLength(x, count, nameof(x), reference);
        return x;
    }

    private static ScottPlot.Plottables.Scatter AddLine(Plot plot, double[] xs, double[] ys, string label, bool markers)
    {
        var line = plot.Add.Scatter(xs, ys);
        line.LegendText = label;
        line.LineWidth = Figure.LineWidth;
        line.MarkerSize = markers ? 6 : 0;
        return line;
    }

    private static string DrawHeatmap(string path, double[,] values, string title, string xLabel, string yLabel, string colorBarLabel,
        IColormap colormap, bool symmetric, string[]? rowNames, int width, int height)
    {
        int rows = values.GetLength(0), cols = values.GetLength(1);
        using var plot = Figure.New(title, xLabel, yLabel);
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = colormap;
        // ScottPlot centres cell (r, c) on (c, r) but draws row 0 at the top; flipped, row 0 sits by the origin.
        heatmap.FlipVertically = true;
        if (symmetric)
        {
            double extent = values.Cast<double>().Max(Math.Abs);
            heatmap.ManualRange = new ScottPlot.Range(-Math.Max(extent, 1e-12), Math.Max(extent, 1e-12));
        }
        var bar = plot.Add.ColorBar(heatmap);
        bar.Label = colorBarLabel;
        bar.LabelStyle.FontSize = 14;
        if (rowNames is not null || rows <= 16)
        {
            var ticks = new NumericManual();
            for (int r = 0; r < rows; r++)
                ticks.AddMajor(r, rowNames?[r] ?? r.ToString(System.Globalization.CultureInfo.InvariantCulture));
            plot.Axes.Left.TickGenerator = ticks;
        }
        else
        {
            plot.Axes.Left.TickGenerator = Figure.Ticks(integersOnly: true);
        }
        plot.Axes.Bottom.TickGenerator = Figure.Ticks(integersOnly: true);
        plot.Axes.Margins(0, 0);
        return Figure.Save(plot, path, width, height);
    }
}
