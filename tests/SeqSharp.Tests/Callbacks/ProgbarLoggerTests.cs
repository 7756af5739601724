using System.Globalization;
using System.Text.RegularExpressions;
using SeqSharp.Callbacks;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Callbacks;

/// <summary>
/// Keras's progress output: <c>Epoch k/n</c>, then per epoch
/// <c>4/4 ━━━━━━━━━━━━━━━━━━━━ 0s 3ms/step - loss: 0.1234 - val_loss: 0.2345</c> (verbose 1) or
/// <c>4/4 - 0s - 3ms/step - loss: ...</c> (verbose 2). Some tests capture the console, so the class
/// runs alone.
/// </summary>
[Collection(GlobalStateCollection.Name)]
public class ProgbarLoggerTests
{
    /// <summary>Keras: <c>f" {avg:.4f}"</c> when <c>abs(avg) &gt; 1e-3</c>, else <c>f" {avg:.4e}"</c>, as Python prints them.</summary>
    private const string Value = @"(-?\d+\.\d{4}|-?\d\.\d{4}e[+-]\d{2}|nan|inf|-inf)";
    private const string StepTime = @"\d+(s|ms|us)/step";

    /// <summary>Python's <c>.4f</c> / <c>.4e</c> of a finite value.</summary>
    private static string Keras(double value) => Math.Abs(value) > 1e-3
        ? value.ToString("0.0000", CultureInfo.InvariantCulture)
        : value.ToString("0.0000e+00", CultureInfo.InvariantCulture);

    private static string Values(IEnumerable<string> keys) => string.Concat(keys.Select(k => $" - {Regex.Escape(k)}: {Value}"));

    /// <summary>20 steps of 4 with a 0.2 validation split: 16 training samples, 4 steps per epoch.</summary>
    private static (Sequential Model, Tensor X, Tensor Y) Model()
    {
        var model = TinyModels.LstmDense();
        var (x, y) = TinyModels.Data(20);
        model.Compile(optimizer: "adam", loss: "mse", metrics: ["mae"]);
        return (model, x, y);
    }

    private static string[] Lines(string text)
    {
        Assert.EndsWith("\n", text);
        return text[..^1].Split('\n');
    }

    private static string WithoutAnsi(string text) => Regex.Replace(text, "\u001b\\[[0-9;]*m", "");

    [Fact]
    public void Fit_Verbose1Redirected_EpochHeadersAndOneFinishedBarPerEpoch()
    {
        var (model, x, y) = Model();
        var writer = new StringWriter();

        var history = model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 1, validationSplit: 0.2,
            callbacks: [new ProgbarLogger(writer, dynamicDisplay: false)]);

        string text = writer.ToString();
        Assert.DoesNotContain('\r', text);
        Assert.DoesNotContain('\u001b', text);
        var lines = Lines(text);
        Assert.Equal(4, lines.Length);
        var bar = new Regex($"^4/4 ━{{20}} \\d+s {StepTime}{Values(["loss", "mae", "val_loss", "val_mae"])}$");
        for (int epoch = 0; epoch < 2; epoch++)
        {
            Assert.Equal($"Epoch {epoch + 1}/2", lines[2 * epoch]);
            Assert.Matches(bar, lines[2 * epoch + 1]);
            foreach (var key in history.Keys)
                Assert.Contains($" - {key}: {Keras(history[key][epoch])}", lines[2 * epoch + 1]);
        }
    }

    [Fact]
    public void Fit_Verbose1Dynamic_RedrawsOneLineWithCarriageReturnsAndColours()
    {
        var (model, x, y) = Model();
        var writer = new StringWriter();

        model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 1, validationSplit: 0.2,
            callbacks: [new ProgbarLogger(writer, dynamicDisplay: true)]);

        string text = writer.ToString();
        Assert.Contains("\r", text);
        Assert.Contains("\u001b[1m", text);    // bold count and time
        Assert.Contains("\u001b[32m", text);   // green done part
        var lines = Lines(text);
        Assert.Equal(4, lines.Length);
        var bar = new Regex($"^4/4 ━{{20}} \\d+s {StepTime}{Values(["loss", "mae", "val_loss", "val_mae"])} *$");
        for (int epoch = 0; epoch < 2; epoch++)
        {
            Assert.Equal($"Epoch {epoch + 1}/2", lines[2 * epoch]);
            var redraws = lines[2 * epoch + 1].Split('\r');
            Assert.Equal("", redraws[0]);   // every redraw starts with '\r'
            Assert.Matches(bar, WithoutAnsi(redraws[^1]));
            // Earlier redraws show a partial bar: done steps, an estimated time left, running values.
            foreach (var partial in redraws[1..^1].Select(WithoutAnsi))
                Assert.Matches(new Regex($"^[1-4]/4 ━{{20}} \\d+s {StepTime}{Values(["loss", "mae"])} *$"), partial);
        }
    }

    [Fact]
    public void Predict_OneBatchVerbose1Dynamic_WritesOnlyTheFinalLine()
    {
        var (model, x, _) = Model();
        var writer = new StringWriter();

        model.Predict(x, batchSize: 64, verbose: 1, callbacks: [new ProgbarLogger(writer, dynamicDisplay: true)]).Dispose();

        string text = writer.ToString();
        // One batch: its redraw would be replaced at once by the final line, so only the final line is written.
        Assert.Equal(1, text.Count(c => c == '\r'));
        Assert.Matches(new Regex($"^1/1 ━{{20}} \\d+s {StepTime} *$"), WithoutAnsi(text.Trim('\r', '\n')));
    }

    [Fact]
    public void Fit_Verbose2_OneCompactLinePerEpoch()
    {
        var (model, x, y) = Model();
        var writer = new StringWriter();

        var history = model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 2, validationSplit: 0.2,
            callbacks: [new ProgbarLogger(writer)]);

        var lines = Lines(writer.ToString());
        Assert.Equal(4, lines.Length);
        var line = new Regex($"^4/4 - \\d+s - {StepTime}{Values(["loss", "mae", "val_loss", "val_mae"])}$");
        for (int epoch = 0; epoch < 2; epoch++)
        {
            Assert.Equal($"Epoch {epoch + 1}/2", lines[2 * epoch]);
            Assert.Matches(line, lines[2 * epoch + 1]);
            Assert.Contains($" - loss: {Keras(history["loss"][epoch])} ", lines[2 * epoch + 1]);
        }
    }

    [Fact]
    public void Fit_Verbose0WithProgbarLogger_PrintsNothing()
    {
        var (model, x, y) = Model();
        var writer = new StringWriter();
        model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, callbacks: [new ProgbarLogger(writer, dynamicDisplay: false)]);
        Assert.Equal("", writer.ToString());
    }

    [Fact]
    public void Fit_InitialEpoch_HeadersCountFromIt()
    {
        var (model, x, y) = Model();
        var writer = new StringWriter();
        model.Fit(x, y, batchSize: 8, epochs: 5, initialEpoch: 3, verbose: 2, callbacks: [new ProgbarLogger(writer)]);
        var lines = Lines(writer.ToString());
        Assert.Equal(new[] { "Epoch 4/5", "Epoch 5/5" }, new[] { lines[0], lines[2] });
        Assert.StartsWith("3/3 - ", lines[1]);
    }

    [Fact]
    public void Evaluate_Verbose1_OneBarWithTheReturnedValues()
    {
        var (model, x, y) = Model();
        var writer = new StringWriter();

        var scores = model.Evaluate(x, y, batchSize: 8, verbose: 1, callbacks: [new ProgbarLogger(writer, dynamicDisplay: false)]);

        var line = Assert.Single(Lines(writer.ToString()));
        Assert.Matches(new Regex($"^3/3 ━{{20}} \\d+s {StepTime}{Values(["loss", "mae"])}$"), line);
        Assert.EndsWith($" - loss: {Keras(scores["loss"])} - mae: {Keras(scores["mae"])}", line);
    }

    [Fact]
    public void Predict_Verbose1_BarWithoutValues()
    {
        var (model, x, _) = Model();
        var writer = new StringWriter();
        model.Predict(x, batchSize: 16, verbose: 1, callbacks: [new ProgbarLogger(writer, dynamicDisplay: false)]);
        Assert.Matches(new Regex($"^2/2 ━{{20}} \\d+s {StepTime}$"), Assert.Single(Lines(writer.ToString())));
    }

    [Fact]
    public void Verbose0_FitEvaluatePredictWriteNothingToTheConsole()
    {
        var (model, x, y) = Model();
        var (console, errors) = (Console.Out, Console.Error);
        var captured = new StringWriter();
        Console.SetOut(captured);
        Console.SetError(captured);
        try
        {
            model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, validationSplit: 0.2);
            model.Evaluate(x, y, verbose: 0);
            model.Predict(x, verbose: 0);
        }
        finally
        {
            Console.SetOut(console);
            Console.SetError(errors);
        }
        Assert.Equal("", captured.ToString());
    }

    [Fact]
    public void Fit_DefaultVerbose_PrintsKerasProgressToTheConsole()
    {
        var (model, x, y) = Model();
        var console = Console.Out;
        var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            model.Fit(x, y, batchSize: 4, epochs: 2, validationSplit: 0.2);
        }
        finally
        {
            Console.SetOut(console);
        }
        // Redrawn in place or plain, depending on whether the test host's output is a terminal.
        var lines = Lines(captured.ToString()).Select(l => WithoutAnsi(l.Split('\r')[^1])).ToList();
        Assert.Equal(4, lines.Count);
        Assert.Equal("Epoch 1/2", lines[0]);
        Assert.Matches(new Regex($"^4/4 ━{{20}} \\d+s {StepTime}{Values(["loss", "mae", "val_loss", "val_mae"])} *$"), lines[3]);
    }

    [Theory]
    [InlineData(0.12344, "0.1234")]
    [InlineData(0.12345678, "0.1235")]
    [InlineData(1234.5, "1234.5000")]
    [InlineData(-0.5, "-0.5000")]
    [InlineData(0.0011, "0.0011")]
    [InlineData(0.001, "1.0000e-03")]      // not above 1e-3
    [InlineData(0.000125, "1.2500e-04")]
    [InlineData(-0.0005, "-5.0000e-04")]
    [InlineData(0.0, "0.0000e+00")]
    [InlineData(double.NaN, "nan")]        // Python prints nan and inf in lower case
    [InlineData(double.PositiveInfinity, "inf")]
    [InlineData(double.NegativeInfinity, "-inf")]
    public void FormatValue_AsKerasPrintsIt(double value, string expected)
    {
        Assert.Equal(expected, Progbar.FormatValue(value));
    }

    [Fact]
    public void Fit_DivergingLoss_PrintsNanAsKerasDoes()
    {
        var model = new Sequential([new SeqSharp.Layers.Dense(1, inputShape: [2])]);
        model.Compile(optimizer: new SeqSharp.Optimizers.SGD(learningRate: 1e30), loss: "mse");
        var writer = new StringWriter();
        var x = full(8, 2, 1e10f);
        model.Fit(x, ones(8, 1), batchSize: 2, epochs: 2, verbose: 2, callbacks: [new ProgbarLogger(writer)]);
        Assert.Contains(" - loss: nan", writer.ToString());
    }
}
