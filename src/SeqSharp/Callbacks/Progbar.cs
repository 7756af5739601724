using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SeqSharp.Callbacks;

/// <summary>
/// Keras's progress bar: <c>12/25 ━━━━━━━━━━━━━━━━━━━━ 1s 41ms/step - loss: 0.0213 - mae: 0.1107</c>.
/// </summary>
/// <remarks>
/// On a terminal, one line is redrawn in place (with Keras's colours). When the output is
/// redirected (a log file, a CI run) no control characters are written: only the final line of each
/// bar, plus a progress line at most every <see cref="RedirectedInterval"/> for long epochs.
/// Verbose 2 writes only the final line, in Keras's compact form.
/// </remarks>
internal sealed class Progbar
{
    private const int Width = 20;
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);
    internal static readonly TimeSpan RedirectedInterval = TimeSpan.FromSeconds(15);

    private readonly int _target;
    private readonly int _verbose;
    private readonly TextWriter _output;
    private readonly bool _dynamic;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan? _lastUpdate;
    private TimeSpan? _afterFirstStep;
    private int _previousWidth;

    public Progbar(int target, int verbose, TextWriter output, bool dynamicDisplay)
    {
        _target = target;
        _verbose = verbose;
        _output = output;
        _dynamic = dynamicDisplay;
        // Redirected output gets no line until the interval has passed (or the bar finishes).
        _lastUpdate = dynamicDisplay ? null : TimeSpan.Zero;
    }

    /// <summary>Shows progress after <paramref name="current"/> steps with the given values (shown as they are).</summary>
    public void Update(int current, IEnumerable<KeyValuePair<string, double>> values, bool finalize = false)
    {
        var now = _clock.Elapsed;
        double perStep = StepDuration(current, now);
        if (_verbose == 2)
        {
            if (finalize)
                _output.WriteLine($"{Count(current)} - {Seconds(now.TotalSeconds)} -{FormatTime(perStep)}{FormatValues(values)}");
            return;
        }
        if (_verbose != 1)
            return;
        var minimum = _dynamic ? Interval : RedirectedInterval;
        if (!finalize && _lastUpdate is { } last && now - last < minimum)
            return;
        // The last step's redraw would be overwritten at once by the final line: one terminal write
        // fewer, which is half of a one-batch Predict's output (a write to a busy terminal can block
        // for milliseconds, longer than the prediction).
        if (!finalize && _dynamic && _target > 0 && current >= _target)
            return;
        _lastUpdate = now;

        string time = finalize
            ? Seconds(now.TotalSeconds)
            : FormatEta(perStep * (_target - current));
        string info = $" {Bold(time)}{FormatTime(perStep)}{FormatValues(values)}";
        int done = _target > 0 ? (int)(Width * (double)current / _target) : 0;
        var line = new StringBuilder();
        if (_dynamic)
        {
            line.Append('\r');
            line.Append(Bold(Count(current))).Append(' ');
            if (done > 0)
                line.Append("\u001b[32m").Append('━', done).Append("\u001b[0m");
            line.Append("\u001b[37m").Append('━', Width - done).Append("\u001b[0m");
        }
        else
        {
            line.Append(Count(current)).Append(' ').Append('━', done).Append('─', Width - done);
        }
        line.Append(info);

        int visible = Count(current).Length + 1 + Width + VisibleLength(info);
        if (_dynamic && _previousWidth > visible)
            line.Append(' ', _previousWidth - visible);
        _previousWidth = visible;
        if (finalize || !_dynamic)
            line.Append('\n');
        _output.Write(line.ToString());
        _output.Flush();
    }

    private string Count(int current)
    {
        int digits = _target > 0 ? (int)Math.Floor(Math.Log10(_target)) + 1 : 1;
        return current.ToString(CultureInfo.InvariantCulture).PadLeft(digits) + "/" + _target.ToString(CultureInfo.InvariantCulture);
    }

    private string Bold(string text) => _dynamic ? $"\u001b[1m{text}\u001b[0m" : text;

    private static int VisibleLength(string text)
    {
        int length = 0;
        for (int k = 0; k < text.Length; k++)
        {
            if (text[k] == '\u001b')
            {
                while (k < text.Length && text[k] != 'm')
                    k++;
                continue;
            }
            length++;
        }
        return length;
    }

    private double StepDuration(int current, TimeSpan now)
    {
        if (current <= 0)
            return 0;
        double perStep = _afterFirstStep is { } first && current > 1
            ? (now - first).TotalSeconds / (current - 1)
            : now.TotalSeconds / current;
        if (current == 1)
            _afterFirstStep = now;
        return perStep;
    }

    internal static string FormatValues(IEnumerable<KeyValuePair<string, double>> values)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in values)
            text.Append(" - ").Append(name).Append(": ").Append(FormatValue(value));
        return text.ToString();
    }

    /// <summary>Keras: four decimals, or scientific notation up to 1e-3; <c>nan</c>, <c>inf</c>, <c>-inf</c> as Python prints them.</summary>
    internal static string FormatValue(double value) =>
        double.IsNaN(value) ? "nan"
        : double.IsInfinity(value) ? (value > 0 ? "inf" : "-inf")
        : Math.Abs(value) > 1e-3 ? value.ToString("0.0000", CultureInfo.InvariantCulture)
        : value.ToString("0.0000e+00", CultureInfo.InvariantCulture);

    /// <summary>Keras: whole seconds, else milliseconds, else microseconds per step.</summary>
    internal static string FormatTime(double seconds) =>
        seconds >= 1 || seconds == 0 ? $" {seconds:0}s/step"
        : seconds >= 1e-3 ? $" {seconds * 1e3:0}ms/step"
        : $" {seconds * 1e6:0}us/step";

    private static string Seconds(double seconds) => seconds.ToString("0", CultureInfo.InvariantCulture) + "s";

    private static string FormatEta(double eta) =>
        eta > 3600 ? $"{(int)(eta / 3600)}:{(int)(eta % 3600 / 60):00}:{(int)(eta % 60):00}"
        : eta > 60 ? $"{(int)(eta / 60)}:{(int)(eta % 60):00}"
        : $"{(int)eta}s";
}
