using System.Globalization;
using System.Text;
using SeqSharp.Layers;

namespace SeqSharp;

public partial class Model
{
    /// <summary>
    /// Prints Keras's model summary: each layer's name and type, output shape (<c>None</c> for the
    /// batch axis) and parameter count, then the totals with their size in memory. A functional
    /// model's summary lists its input layers too and adds Keras's "Connected to" column:
    /// <c>layer[node][tensor]</c> for each input of the layer.
    /// </summary>
    /// <param name="writer">Where to print; the console by default.</param>
    public void Summary(TextWriter? writer = null)
    {
        writer ??= Console.Out;
        writer.Write(SummaryText());
    }

    /// <summary>The text <see cref="Summary"/> prints.</summary>
    public string SummaryText()
    {
        bool graph = this is not Sequential;
        var rows = (graph ? AllLayers : Layers).Select(l => (
            Name: $"{l.Name} ({l.GetType().Name})",
            Shape: SummaryShape(l),
            Params: l.Built ? Count(l.CountParams()) : "0 (unbuilt)",
            Connected: graph ? ConnectedTo(l) : "")).ToList();
        int[] widths = graph
            ?
            [
                Math.Max(31, rows.Select(r => r.Name.Length).DefaultIfEmpty(0).Max()),
                Math.Max(22, rows.Select(r => r.Shape.Length).DefaultIfEmpty(0).Max()),
                Math.Max(13, rows.Select(r => r.Params.Length).DefaultIfEmpty(0).Max()),
                Math.Max(21, rows.Select(r => r.Connected.Length).DefaultIfEmpty(0).Max()),
            ]
            :
            [
                Math.Max(31, rows.Select(r => r.Name.Length).DefaultIfEmpty(0).Max()),
                Math.Max(22, rows.Select(r => r.Shape.Length).DefaultIfEmpty(0).Max()),
                Math.Max(13, rows.Select(r => r.Params.Length).DefaultIfEmpty(0).Max()),
            ];

        var text = new StringBuilder();
        text.Append("Model: \"").Append(Name).Append("\"\n");
        text.Append(Border('┏', '━', '┳', '┓', widths));
        text.Append('┃').Append(Cell("Layer (type)", widths[0], left: true)).Append('┃')
            .Append(Cell("Output Shape", widths[1], left: true)).Append('┃')
            .Append(Cell("Param #", widths[2], left: false)).Append(graph ? "┃" + Cell("Connected to", widths[3], left: true) : "").Append("┃\n");
        text.Append(Border('┡', '━', '╇', '┩', widths));
        for (int k = 0; k < rows.Count; k++)
        {
            text.Append('│').Append(Cell(rows[k].Name, widths[0], left: true)).Append('│')
                .Append(Cell(rows[k].Shape, widths[1], left: true)).Append('│')
                .Append(Cell(rows[k].Params, widths[2], left: false)).Append(graph ? "│" + Cell(rows[k].Connected, widths[3], left: true) : "").Append("│\n");
            if (k < rows.Count - 1)
                text.Append(Border('├', '─', '┼', '┤', widths));
        }
        text.Append(Border('└', '─', '┴', '┘', widths));

        long trainable = UniqueLayers.Where(l => l.Built).Sum(l => l.TrainableWeights.Sum(w => w.numel()));
        long frozen = UniqueLayers.Where(l => l.Built).Sum(l => l.NonTrainableWeights.Sum(w => w.numel()));
        text.Append(" Total params: ").Append(WithSize(trainable + frozen)).Append('\n');
        text.Append(" Trainable params: ").Append(WithSize(trainable)).Append('\n');
        text.Append(" Non-trainable params: ").Append(WithSize(frozen)).Append('\n');
        if (_optimizer is { Built: true })
        {
            // As Keras: the iteration count and learning rate count too.
            using var scope = TorchSharp.torch.NewDisposeScope();
            text.Append(" Optimizer params: ").Append(WithSize(_optimizer.Variables.Sum(v => v.numel()))).Append('\n');
        }
        return text.ToString();
    }

    /// <summary><c>16,961</c>.</summary>
    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary><c>16,961 (66.25 KB)</c>: four bytes per float32 parameter, in Keras's 1024-based units.</summary>
    private static string WithSize(long parameters)
    {
        double bytes = parameters * 4.0;
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        int unit = 0;
        while (bytes >= 1024 && unit < units.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }
        return $"{Count(parameters)} ({bytes.ToString("0.00", CultureInfo.InvariantCulture)} {units[unit]})";
    }

    private static string Cell(string content, int width, bool left) =>
        " " + (left ? content.PadRight(width) : content.PadLeft(width)) + " ";

    private static string Border(char start, char fill, char cross, char end, int[] widths) =>
        start + string.Join(cross, widths.Select(w => new string(fill, w + 2))) + end + "\n";
}
