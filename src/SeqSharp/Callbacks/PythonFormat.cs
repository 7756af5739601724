using System.Globalization;
using System.Text;

namespace SeqSharp.Callbacks;

/// <summary>
/// The bits of Python's number formatting that Keras's callbacks show: <c>str(float)</c>, <c>f"{x:.5f}"</c>,
/// and <c>str.format</c> on file path templates such as <c>"{epoch:02d}-{val_loss:.2f}.weights.h5"</c>.
/// </summary>
internal static class PythonFormat
{
    /// <summary>Python's <c>repr(float)</c>: shortest round-trip digits, <c>1.0</c>, <c>0.0001</c>, <c>1e-05</c>, <c>inf</c>, <c>nan</c>.</summary>
    public static string Repr(double value)
    {
        if (double.IsNaN(value))
            return "nan";
        if (double.IsInfinity(value))
            return value > 0 ? "inf" : "-inf";
        if (value == 0)
            return double.IsNegative(value) ? "-0.0" : "0.0";
        string r = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOf('E');
        int exponent = e < 0 ? 0 : int.Parse(r[(e + 1)..], CultureInfo.InvariantCulture);
        string mantissa = e < 0 ? r : r[..e];
        int dot = mantissa.IndexOf('.');
        string digits = mantissa.Replace(".", "", StringComparison.Ordinal);
        int point = (dot < 0 ? mantissa.Length : dot) + exponent;   // digits before the decimal point
        int lead = digits.Length - digits.TrimStart('0').Length;
        digits = digits.TrimStart('0');
        point -= lead;
        digits = digits.TrimEnd('0');
        int scientific = point - 1;
        var text = new StringBuilder(value < 0 ? "-" : "");
        if (scientific is >= -4 and < 16)
        {
            if (point <= 0)
                text.Append("0.").Append('0', -point).Append(digits);
            else if (point >= digits.Length)
                text.Append(digits).Append('0', point - digits.Length).Append(".0");
            else
                text.Append(digits[..point]).Append('.').Append(digits[point..]);
        }
        else
        {
            text.Append(digits[0]);
            if (digits.Length > 1)
                text.Append('.').Append(digits[1..]);
            text.Append('e').Append(scientific < 0 ? '-' : '+').Append(Math.Abs(scientific).ToString("00", CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    /// <summary>Python's <c>f"{value:.{decimals}f}"</c>, including <c>inf</c> and <c>nan</c>.</summary>
    public static string Fixed(double value, int decimals) =>
        double.IsNaN(value) ? "nan"
        : double.IsInfinity(value) ? (value > 0 ? "inf" : "-inf")
        : value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>
    /// Python's <c>template.format(**values)</c> for fields <c>{name}</c> and <c>{name:spec}</c> with
    /// specs <c>[0][width][.precision][d|f|e]</c>, and <c>{{</c>, <c>}}</c> for braces.
    /// </summary>
    /// <exception cref="KeyNotFoundException">A field names no value; the message lists the available ones.</exception>
    /// <exception cref="FormatException">An unbalanced brace, an unsupported spec, or <c>d</c> with a fractional value.</exception>
    public static string Format(string template, IReadOnlyDictionary<string, double> values)
    {
        var text = new StringBuilder();
        for (int i = 0; i < template.Length; i++)
        {
            char c = template[i];
            if (c == '}')
            {
                if (i + 1 < template.Length && template[i + 1] == '}')
                {
                    text.Append('}');
                    i++;
                    continue;
                }
                throw new FormatException($"Single '}}' encountered in format string \"{template}\".");
            }
            if (c != '{')
            {
                text.Append(c);
                continue;
            }
            if (i + 1 < template.Length && template[i + 1] == '{')
            {
                text.Append('{');
                i++;
                continue;
            }
            int close = template.IndexOf('}', i + 1);
            if (close < 0)
                throw new FormatException($"Single '{{' encountered in format string \"{template}\".");
            string field = template[(i + 1)..close];
            int colon = field.IndexOf(':');
            string name = colon < 0 ? field : field[..colon];
            string spec = colon < 0 ? "" : field[(colon + 1)..];
            if (!values.TryGetValue(name, out double value))
                throw new KeyNotFoundException($"'{name}'. Available: {string.Join(", ", values.Keys)}.");
            text.Append(FormatValue(value, spec, name));
            i = close;
        }
        return text.ToString();
    }

    private static string FormatValue(double value, string spec, string name)
    {
        int k = 0;
        bool zeros = k < spec.Length && spec[k] == '0';
        if (zeros)
            k++;
        int width = 0;
        while (k < spec.Length && char.IsAsciiDigit(spec[k]))
            width = width * 10 + (spec[k++] - '0');
        int? precision = null;
        if (k < spec.Length && spec[k] == '.')
        {
            k++;
            int p = 0, start = k;
            while (k < spec.Length && char.IsAsciiDigit(spec[k]))
                p = p * 10 + (spec[k++] - '0');
            if (k == start)
                throw new FormatException($"Format specifier missing precision in '{{{name}:{spec}}}'.");
            precision = p;
        }
        char type = k < spec.Length ? spec[k++] : '\0';
        if (k != spec.Length)
            throw new FormatException($"Unsupported format spec '{spec}' for '{name}': expected [0][width][.precision][d|f|e].");
        string body = type switch
        {
            'd' when precision is null && value == Math.Floor(value) && Math.Abs(value) < 1e15 =>
                ((long)value).ToString(CultureInfo.InvariantCulture),
            'd' => throw new FormatException($"Unknown format code 'd' for '{name}' = {Repr(value)} (a float): use '.Nf'."),
            'f' => Fixed(value, precision ?? 6),
            'e' => Exponent(value, precision ?? 6),
            '\0' when precision is null => IsWhole(value, name) ? ((long)value).ToString(CultureInfo.InvariantCulture) : Repr(value),
            _ => throw new FormatException($"Unsupported format spec '{spec}' for '{name}': expected [0][width][.precision][d|f|e]."),
        };
        if (body.Length >= width)
            return body;
        if (!zeros)
            return body.PadLeft(width);
        bool negative = body.StartsWith('-');
        return negative ? "-" + body[1..].PadLeft(width - 1, '0') : body.PadLeft(width, '0');
    }

    /// <summary>Epoch and batch are Python ints; logged values are floats.</summary>
    private static bool IsWhole(double value, string name) => name is "epoch" or "batch" && value == Math.Floor(value);

    private static string Exponent(double value, int precision)
    {
        if (!double.IsFinite(value))
            return Fixed(value, 0);
        string pattern = (precision == 0 ? "0" : "0." + new string('0', precision)) + "e+00";
        return value.ToString(pattern, CultureInfo.InvariantCulture);
    }
}
