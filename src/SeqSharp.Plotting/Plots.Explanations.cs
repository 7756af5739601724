using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;
using SeqSharp.Interpretability;
using static TorchSharp.torch;

namespace SeqSharp.Plotting;

public static partial class Plots
{
    private static readonly Color Positive = Color.FromHex("#d62728");
    private static readonly Color Negative = Color.FromHex("#1f77b4");

    /// <summary>
    /// A SHAP summary (beeswarm) plot: one row per feature or group, most important (largest mean
    /// |SHAP|) at the top, one dot per sample at its SHAP value, stacked up and down where dots
    /// crowd, coloured by the feature's value in that sample (blue low, red high) when given.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="shap">SHAP values <c>(samples, groups)</c>, or <c>(samples, timesteps, features)</c>, which is summed over time per feature.</param>
    /// <param name="featureValues">The explained inputs for the colours, shaped like <paramref name="shap"/> (rank 3 is averaged over time); null for one colour.</param>
    /// <param name="featureNames">One name per row; default the indices.</param>
    /// <param name="maxDisplay">Rows shown at most (the most important); default 20.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the file written.</returns>
    /// <exception cref="ArgumentException">Wrong rank or shape, empty, non-finite values, or a name count unequal to the rows.</exception>
    /// <example>
    /// <code>
    /// var shap = Attributions.KernelShap(model, x, background, groups, seed: 1);      // (n, groups)
    /// Plots.ShapSummary("summary.png", shap, featureNames: groupNames);
    /// </code>
    /// </example>
    public static string ShapSummary(string path, Tensor shap, Tensor? featureValues = null, string[]? featureNames = null, int maxDisplay = 20,
        string title = "SHAP summary", int width = DefaultWidth, int height = DefaultHeight)
    {
        PlotInput.CheckTarget(path, width, height);
        var values = PerFeature(shap, nameof(shap), sum: true);
        PlotInput.Finite(values, nameof(shap));
        double[,]? colours = null;
        if (featureValues is not null)
        {
            if (!featureValues.shape.SequenceEqual(shap.shape))
                throw new ArgumentException(
                    $"Expected '{nameof(featureValues)}' shaped like '{nameof(shap)}' {PlotInput.Shape(shap)}. Received: shape {PlotInput.Shape(featureValues)}.", nameof(featureValues));
            colours = PerFeature(featureValues, nameof(featureValues), sum: false);
            PlotInput.Finite(colours, nameof(featureValues));
        }
        int samples = values.GetLength(0), features = values.GetLength(1);
        CheckNames(featureNames, features, "feature or group");
        if (maxDisplay < 1)
            throw new ArgumentException($"Expected a positive maxDisplay. Received: maxDisplay={maxDisplay}.", nameof(maxDisplay));

        var order = ExplanationLayout.ByMeanMagnitude(values).Take(maxDisplay).Reverse().ToArray();     // least important first = bottom
        using var plot = Figure.New(title, colours is null ? "SHAP value" : "SHAP value (colour: feature value, blue low, red high)", "");
        const int Shades = 9;
        var colormap = new ScottPlot.Colormaps.Balance();
        var ticks = new NumericManual();
        for (int row = 0; row < order.Length; row++)
        {
            int f = order[row];
            var column = Enumerable.Range(0, samples).Select(s => values[s, f]).ToArray();
            var offsets = ExplanationLayout.SwarmOffsets(column, halfHeight: 0.4);
            var shade = new int[samples];
            if (colours is not null)
            {
                var raw = Enumerable.Range(0, samples).Select(s => colours[s, f]).ToArray();
                double lo = raw.Min(), hi = raw.Max();
                for (int s = 0; s < samples; s++)
                    shade[s] = hi > lo ? (int)Math.Round((raw[s] - lo) / (hi - lo) * (Shades - 1)) : Shades / 2;
            }
            for (int k = 0; k < Shades; k++)
            {
                var members = Enumerable.Range(0, samples).Where(s => (colours is null ? Shades / 2 : shade[s]) == k).ToArray();
                if (members.Length == 0)
                    continue;
                var markers = plot.Add.Markers(members.Select(s => column[s]).ToArray(), members.Select(s => row + offsets[s]).ToArray());
                markers.MarkerSize = 5;
                markers.Color = colours is null ? Negative : colormap.GetColor(0.1 + 0.8 * k / (Shades - 1));
            }
            ticks.AddMajor(row, featureNames?[f] ?? f.ToString(CultureInfo.InvariantCulture));
        }
        var zero = plot.Add.VerticalLine(0);
        zero.Color = Colors.Gray;
        zero.LineWidth = 1;
        plot.Axes.Left.TickGenerator = ticks;
        plot.Axes.SetLimitsY(-0.6, order.Length - 0.4);
        return Figure.Save(plot, path, width, height);
    }

    /// <summary>
    /// A waterfall of one prediction: from the base value <c>E[f(background)]</c> at the bottom,
    /// each feature's SHAP value as a bar (red raises, blue lowers the output), largest at the top,
    /// the rest combined in one bar, ending at <c>f(x) = base + Σ SHAP</c>.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="shap">One sample's SHAP values, any shape (e.g. <c>(groups)</c> or <c>(timesteps, features)</c>); flattened in row-major order.</param>
    /// <param name="baseValue">The base value, e.g. <see cref="Attributions.BaseValue"/>.</param>
    /// <param name="featureNames">One name per value (flattened order); default the indices, or <c>t3 f1</c> for a <c>(timesteps, features)</c> tensor.</param>
    /// <param name="maxDisplay">Bars shown at most, the last combining the remaining values; default 10.</param>
    /// <param name="title">Plot title; default states the base value and f(x).</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the file written.</returns>
    /// <exception cref="ArgumentException">Empty or non-finite values, a non-finite base value, or a name count unequal to the values.</exception>
    /// <example>
    /// <code>
    /// Plots.ShapWaterfall("why.png", shap[0], Attributions.BaseValue(model, background), featureNames: groupNames);
    /// </code>
    /// </example>
    public static string ShapWaterfall(string path, Tensor shap, double baseValue, string[]? featureNames = null, int maxDisplay = 10,
        string? title = null, int width = DefaultWidth, int height = DefaultHeight)
    {
        PlotInput.CheckTarget(path, width, height);
        ArgumentNullException.ThrowIfNull(shap);
        if (shap.numel() == 0)
            throw new ArgumentException($"Expected at least one SHAP value in '{nameof(shap)}'. Received: shape {PlotInput.Shape(shap)}.", nameof(shap));
        var values = PlotInput.Flat(shap);
        PlotInput.Finite(values, nameof(shap));
        if (!double.IsFinite(baseValue))
            throw new ArgumentException($"Expected a finite base value. Received: {baseValue.ToString(CultureInfo.InvariantCulture)}.", nameof(baseValue));
        CheckNames(featureNames, values.Length, "value");
        if (maxDisplay < 2)
            throw new ArgumentException($"Expected maxDisplay of at least 2. Received: maxDisplay={maxDisplay}.", nameof(maxDisplay));
        var names = featureNames ?? DefaultNames(shap);

        var rows = ExplanationLayout.Waterfall(values, names, baseValue, maxDisplay);
        double output = rows.Count == 0 ? baseValue : rows[^1].End;
        using var plot = Figure.New(title ?? FormattableString.Invariant($"E[f(x)] = {baseValue:G4}  →  f(x) = {output:G4}"), "model output", "");
        var bars = new List<Bar>();
        var ticks = new NumericManual();
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            bars.Add(new Bar
            {
                Position = r,
                ValueBase = row.Start,
                Value = row.End,
                FillColor = row.End >= row.Start ? Positive : Negative,
                LineWidth = 0,
                Size = 0.7,
            });
            ticks.AddMajor(r, FormattableString.Invariant($"{row.Name} ({row.End - row.Start:+0.###;-0.###;0})"));
        }
        var plottable = plot.Add.Bars(bars);
        plottable.Horizontal = true;
        foreach (var (x, label) in new[] { (baseValue, "base"), (output, "f(x)") })
        {
            var line = plot.Add.VerticalLine(x);
            line.Color = Colors.Gray;
            line.LineWidth = 1;
            line.LinePattern = LinePattern.Dashed;
            line.Text = label;
        }
        plot.Axes.Left.TickGenerator = ticks;
        return Figure.Save(plot, path, width, height);
    }

    /// <summary>
    /// A time × feature heatmap of SHAP values for one sample (red raises, blue lowers the output),
    /// for values shaped like the input, e.g. Kernel SHAP without groups or GradientSHAP.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="shap">SHAP values <c>(batch, timesteps, features)</c> or <c>(timesteps, features)</c>.</param>
    /// <param name="sample">Which sample of the batch to show; 0 for a 2-D tensor.</param>
    /// <param name="featureNames">One name per feature, shown bottom to top; default the indices.</param>
    /// <param name="title">Plot title.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the file written.</returns>
    /// <exception cref="ArgumentException">Wrong rank, empty, non-finite values, a sample index out of range, or a name count unequal to the features.</exception>
    public static string ShapHeatmap(string path, Tensor shap, int sample = 0, string[]? featureNames = null,
        string title = "SHAP values", int width = DefaultWidth, int height = DefaultHeight)
    {
        PlotInput.CheckTarget(path, width, height);
        var values = PlotInput.SampleOverTime(shap, sample, nameof(shap), "features");
        PlotInput.Finite(values, nameof(shap));
        CheckNames(featureNames, values.GetLength(0), "feature");
        return DrawHeatmap(path, values, title, "time step", "feature", "SHAP value", new ScottPlot.Colormaps.Balance(), symmetric: true,
            featureNames, width, height);
    }

    /// <summary>
    /// A bar chart of one sample's LIME coefficients, one bar per (window, feature), largest
    /// magnitude at the top (red raises, blue lowers the output), with the surrogate's weighted R²
    /// in the title.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="lime">The explanation from <see cref="Attributions.Lime"/>.</param>
    /// <param name="sample">Which sample of the batch to show.</param>
    /// <param name="featureNames">One name per feature (the coefficients' last axis); default the indices.</param>
    /// <param name="maxDisplay">Bars shown at most; default 15.</param>
    /// <param name="title">Plot title; default names the sample and its R².</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The full path of the file written.</returns>
    /// <exception cref="ArgumentException">A sample index out of range, non-finite coefficients, or a name count unequal to the features.</exception>
    public static string LimeBars(string path, LimeExplanation lime, int sample = 0, string[]? featureNames = null, int maxDisplay = 15,
        string? title = null, int width = DefaultWidth, int height = DefaultHeight)
    {
        PlotInput.CheckTarget(path, width, height);
        ArgumentNullException.ThrowIfNull(lime);
        var coefficients = lime.Coefficients;
        if (sample < 0 || sample >= coefficients.shape[0])
            throw new ArgumentException(
                $"Expected a sample index from 0 to {coefficients.shape[0] - 1} for an explanation of {coefficients.shape[0]} samples. Received: sample={sample}.", nameof(sample));
        if (maxDisplay < 1)
            throw new ArgumentException($"Expected a positive maxDisplay. Received: maxDisplay={maxDisplay}.", nameof(maxDisplay));
        long windows = coefficients.shape[1], features = coefficients.shape[2];
        CheckNames(featureNames, (int)features, "feature");
        double[] values;
        using (NewDisposeScope())
            values = PlotInput.Flat(coefficients[sample]);
        PlotInput.Finite(values, nameof(lime));
        var labels = new string[values.Length];
        for (long k = 0; k < windows; k++)
        {
            long first = k * lime.Segments, last = first + lime.Segments - 1;
            string steps = lime.Segments == 1 ? $"step {first}" : $"steps {first}-{last}";
            for (long f = 0; f < features; f++)
                labels[k * features + f] = features == 1 && featureNames is null ? steps : $"{steps} · {featureNames?[f] ?? f.ToString(CultureInfo.InvariantCulture)}";
        }
        double score = lime.Scores[sample].to_type(ScalarType.Float64).item<double>();
        var order = ExplanationLayout.ByMagnitude(values).Take(maxDisplay).Reverse().ToArray();
        using var plot = Figure.New(title ?? FormattableString.Invariant($"LIME, sample {sample} (weighted R² {score:F3})"), "coefficient", "");
        var ticks = new NumericManual();
        var bars = new List<Bar>();
        for (int r = 0; r < order.Length; r++)
        {
            double v = values[order[r]];
            bars.Add(new Bar { Position = r, ValueBase = 0, Value = v, FillColor = v >= 0 ? Positive : Negative, LineWidth = 0, Size = 0.7 });
            ticks.AddMajor(r, labels[order[r]]);
        }
        var plottable = plot.Add.Bars(bars);
        plottable.Horizontal = true;
        plot.Axes.Left.TickGenerator = ticks;
        return Figure.Save(plot, path, width, height);
    }

    /// <summary>(samples, groups) as an array; a rank-3 tensor reduced over time (summed, or averaged for feature values).</summary>
    private static double[,] PerFeature(Tensor values, string name, bool sum)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if ((values.dim() != 2 && values.dim() != 3) || values.numel() == 0)
            throw new ArgumentException(
                $"Expected '{name}' of shape (samples, groups) or (samples, timesteps, features), non-empty. Received: shape {PlotInput.Shape(values)}.", name);
        using var scope = NewDisposeScope();
        var reduced = values.dim() == 3 ? (sum ? values.sum([1]) : values.mean([1])) : values;
        return PlotInput.Matrix(reduced, name);
    }

    private static void CheckNames(string[]? names, int expected, string what)
    {
        if (names is not null && names.Length != expected)
            throw new ArgumentException($"Expected one name per {what} ({expected}) in 'featureNames'. Received: {names.Length}.", "featureNames");
    }

    private static string[] DefaultNames(Tensor shap)
    {
        if (shap.dim() == 2)
        {
            long features = shap.shape[1];
            return [.. Enumerable.Range(0, (int)shap.numel()).Select(i => FormattableString.Invariant($"t{i / features} f{i % features}"))];
        }
        return [.. Enumerable.Range(0, (int)shap.numel()).Select(i => i.ToString(CultureInfo.InvariantCulture))];
    }
}
