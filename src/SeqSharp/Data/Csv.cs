using System.Globalization;
using System.Text;

namespace SeqSharp.Data;

/// <summary>
/// Reads numeric columns of a CSV file by their names in the header row, as
/// <c>pandas.read_csv(path, usecols=[...]).to_numpy()</c> does for clean numeric data.
/// </summary>
/// <remarks>
/// The first line is the header. Fields are separated by commas; a field may be quoted with
/// <c>"</c> (a doubled <c>""</c> inside is one quote; quoted fields do not span lines). Numbers
/// are read in the invariant culture (<c>1.5</c>, <c>1e-3</c>, <c>NaN</c>); blank lines are
/// skipped. Columns not asked for may hold anything. An empty cell in a requested column is an
/// error rather than NaN, so missing values are never silently carried into training.
/// </remarks>
/// <example>
/// <code>
/// double[] passengers = Csv.LoadColumn("airline-passengers.csv", "passengers");
/// double[,] readings = Csv.LoadColumns("weather.csv", "temperature", "humidity");   // (rows, 2)
/// </code>
/// </example>
public static class Csv
{
    /// <summary>Reads one numeric column, by its name in the header row.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="column">The column's name, as in the header (case-sensitive, surrounding spaces ignored).</param>
    /// <returns>The column's values, one per data row.</returns>
    /// <exception cref="ArgumentException">The column is not in the header (the message lists the columns that are).</exception>
    /// <exception cref="FormatException">A cell of the column is not a number, or a row has too few fields (the message names the line).</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    public static double[] LoadColumn(string path, string column)
    {
        var values = LoadColumns(path, column);
        var result = new double[values.GetLength(0)];
        for (int i = 0; i < result.Length; i++)
            result[i] = values[i, 0];
        return result;
    }

    /// <summary>Reads numeric columns, by their names in the header row, in the order asked.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="columns">The columns' names, as in the header (case-sensitive, surrounding spaces ignored); at least one.</param>
    /// <returns>A <c>(rows, columns.Length)</c> array: row <c>i</c> is data row <c>i</c> (file line <c>i + 2</c> when no line is blank).</returns>
    /// <exception cref="ArgumentException">No columns asked for, or columns not in the header (the message names them and lists the columns that are).</exception>
    /// <exception cref="FormatException">A cell of a requested column is not a number, or a row has too few fields (the message names the line and column).</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is empty (no header row).</exception>
    public static double[,] LoadColumns(string path, params string[] columns)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Length == 0)
            throw new ArgumentException("Expected at least one column name. Received none.", nameof(columns));
        using var reader = new StreamReader(path);
        string? headerLine = reader.ReadLine()
            ?? throw new InvalidDataException($"The CSV file '{path}' is empty: expected a header row with the column names.");
        var header = SplitFields(headerLine.TrimStart('\uFEFF'), path, 1).Select(h => h.Trim()).ToList();
        var missing = columns.Where(c => !header.Contains(c.Trim())).ToList();
        if (missing.Count > 0)
            throw new ArgumentException(
                $"Column{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(m => $"'{m}'"))} not found in '{path}'. " +
                $"The header has: {string.Join(", ", header.Select(h => $"'{h}'"))}.", nameof(columns));
        var positions = columns.Select(c => header.IndexOf(c.Trim())).ToArray();

        var rows = new List<double[]>();
        int lineNumber = 1;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var fields = SplitFields(line, path, lineNumber);
            var row = new double[positions.Length];
            for (int j = 0; j < positions.Length; j++)
            {
                if (positions[j] >= fields.Count)
                    throw new FormatException($"Line {lineNumber} of '{path}' has {fields.Count} field(s), so no value for column '{columns[j]}' (field {positions[j] + 1}).");
                string cell = fields[positions[j]].Trim();
                if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out row[j]))
                    throw new FormatException($"Line {lineNumber} of '{path}', column '{columns[j]}': \"{cell}\" is not a number.");
            }
            rows.Add(row);
        }

        var result = new double[rows.Count, positions.Length];
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < positions.Length; j++)
                result[i, j] = rows[i][j];
        return result;
    }

    /// <summary>The fields of one line, quotes removed.</summary>
    private static List<string> SplitFields(string line, string path, int lineNumber)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c != '"')
                    field.Append(c);
                else if (i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else
                    quoted = false;
            }
            else if (c == '"')
                quoted = true;
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
                field.Append(c);
        }
        if (quoted)
            throw new FormatException($"Line {lineNumber} of '{path}' has an unclosed quote.");
        fields.Add(field.ToString());
        return fields;
    }
}
