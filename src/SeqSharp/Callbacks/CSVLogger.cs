using System.Text;

namespace SeqSharp.Callbacks;

/// <summary>
/// Streams each epoch's logs to a CSV file (Keras <c>CSVLogger</c>): a header row, then one row per
/// epoch, flushed at once, so the file is readable while training runs.
/// </summary>
/// <remarks>
/// <para>Columns, as in Keras: <c>epoch</c> (0-based), then the first epoch's log names in ordinal
/// order; when none of them starts with <c>val_</c>, a <c>val_</c> column is added for each (filled
/// with <c>NA</c> until such values appear). Values are written as Python writes floats
/// (<c>0.25</c>, <c>1.0</c>, <c>1e-05</c>); rows end with <c>\r\n</c> as Python's csv module does.</para>
/// <para>With <c>append: true</c> an existing file is continued, and the header is written only if
/// the file is empty (useful when resuming with <c>initialEpoch</c>).</para>
/// </remarks>
/// <example>
/// <code>
/// model.Fit(x, y, epochs: 20, validationSplit: 0.2, callbacks: [new CSVLogger("training.csv")]);
/// </code>
/// </example>
public sealed class CSVLogger : Callback
{
    private StreamWriter? _writer;
    private List<string>? _keys;
    private bool _writeHeader;

    /// <summary>Creates the logger.</summary>
    /// <param name="filename">The CSV file, e.g. <c>"run/log.csv"</c>.</param>
    /// <param name="separator">The field separator. Default <c>','</c>.</param>
    /// <param name="append">Continue an existing file instead of replacing it. Default false.</param>
    /// <exception cref="ArgumentException">An empty file name, or a quote, carriage return or line feed as separator.</exception>
    public CSVLogger(string filename, char separator = ',', bool append = false)
    {
        ArgumentNullException.ThrowIfNull(filename);
        if (string.IsNullOrWhiteSpace(filename))
            throw new ArgumentException($"Expected a file name. Received: filename='{filename}'.", nameof(filename));
        if (separator is '"' or '\r' or '\n')
            throw new ArgumentException($"The separator cannot be a quote or a line break. Received: separator={(int)separator}.", nameof(separator));
        Filename = filename;
        Separator = separator;
        Append = append;
    }

    /// <summary>The CSV file.</summary>
    public string Filename { get; }

    /// <summary>The field separator.</summary>
    public char Separator { get; }

    /// <summary>Whether an existing file is continued.</summary>
    public bool Append { get; }

    /// <inheritdoc />
    public override void OnTrainBegin(IDictionary<string, double> logs)
    {
        _writer?.Dispose();
        _writeHeader = !(Append && File.Exists(Filename) && new FileInfo(Filename).Length > 0 && FirstLineNotEmpty());
        var stream = new FileStream(Filename, Append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read);
        _writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        _keys = null;
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        var writer = _writer ?? throw new InvalidOperationException("CSVLogger: OnTrainBegin must run before OnEpochEnd (Fit calls both).");
        if (_keys is null)
        {
            _keys = logs.Keys.Order(StringComparer.Ordinal).ToList();
            if (_keys.Count > 0 && !_keys.Any(k => k.StartsWith("val_", StringComparison.Ordinal)))
                _keys.AddRange(_keys.Select(k => "val_" + k).ToList());
            if (_writeHeader)
                WriteRow(writer, ["epoch", .. _keys]);
        }
        WriteRow(writer, [epoch.ToString(System.Globalization.CultureInfo.InvariantCulture),
            .. _keys.Select(k => logs.TryGetValue(k, out double v) ? PythonFormat.Repr(v) : "NA")]);
        writer.Flush();
    }

    /// <inheritdoc />
    public override void OnTrainEnd(IDictionary<string, double> logs)
    {
        _writer?.Dispose();
        _writer = null;
    }

    private bool FirstLineNotEmpty()
    {
        using var reader = new StreamReader(Filename);
        return !string.IsNullOrEmpty(reader.ReadLine());
    }

    private void WriteRow(StreamWriter writer, IEnumerable<string> fields)
    {
        writer.Write(string.Join(Separator, fields.Select(Quote)));
        writer.Write("\r\n");
    }

    /// <summary>Python csv's minimal quoting: fields holding the separator, a quote or a line break are quoted, quotes doubled.</summary>
    private string Quote(string field) =>
        field.IndexOfAny([Separator, '"', '\r', '\n']) < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
