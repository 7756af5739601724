using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SeqSharp.Layers;

namespace SeqSharp.Saving;

/// <summary>
/// JSON as Keras reads and writes it: configs are nested dictionaries, lists and scalars; floats are
/// written as Python's <c>json.dumps</c> writes them (<c>0.2</c>, <c>1.0</c>, <c>1e-07</c>), so that
/// Python reads back floats where the value was a float and integers where it was an integer.
/// </summary>
internal static class KerasJson
{
    /// <summary>Writes a config value: dictionaries (keys in insertion order), lists, strings, numbers, booleans, null.</summary>
    /// <exception cref="NotSupportedException">A value of another type, or a non-finite number (not JSON).</exception>
    public static string Write(object? value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
            Write(writer, value, "");
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Parses JSON into CLR values: dictionaries, lists, strings, <c>long</c>, <c>double</c>, <c>bool</c>, null.</summary>
    /// <exception cref="InvalidDataException">Not valid JSON; the message names <paramref name="source"/>.</exception>
    public static object? Parse(string json, string source)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return LayerConfig.Normalize(document.RootElement.Clone());
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source} is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>A float as Python's <c>repr</c> prints it: shortest round-trip digits, <c>.0</c> on whole numbers, <c>e-07</c> exponents.</summary>
    public static string PythonFloat(double value)
    {
        if (!double.IsFinite(value))
            throw new NotSupportedException($"Cannot write {value} to a Keras config: JSON has no non-finite numbers.");
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        if (text.Contains('E', StringComparison.Ordinal))
        {
            // .NET writes 1E-07 and 1E+20; Python writes 1e-07 and 1e+20.
            return text.Replace('E', 'e');
        }
        return text.Contains('.', StringComparison.Ordinal) ? text : text + ".0";
    }

    private static void Write(Utf8JsonWriter writer, object? value, string path)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case double d:
                writer.WriteRawValue(PythonFloat(d));
                break;
            case float f:
                writer.WriteRawValue(PythonFloat(f));
                break;
            case int or long or short or byte or uint or ushort or sbyte:
                writer.WriteRawValue(Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture));
                break;
            case IReadOnlyDictionary<string, object?> dictionary:
                writer.WriteStartObject();
                foreach (var (key, item) in dictionary)
                {
                    writer.WritePropertyName(key);
                    Write(writer, item, path + "/" + key);
                }
                writer.WriteEndObject();
                break;
            case IEnumerable list:
                writer.WriteStartArray();
                foreach (var item in list)
                    Write(writer, item, path + "[]");
                writer.WriteEndArray();
                break;
            default:
                throw new NotSupportedException($"Cannot write a {value.GetType().Name} at '{path}' to a Keras config.");
        }
    }
}
