using System.Text.RegularExpressions;
using SeqSharp.Layers;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Models;

/// <summary>
/// <c>Summary</c> in Keras's format. The counts are worked out by hand from Keras's formulas:
/// LSTM <c>4·u·(in + u + 1)</c>, Dense <c>in·u + u</c>, four bytes a parameter in 1024-based units.
/// </summary>
public class SummaryTests
{
    /// <summary>The document's model: LSTM(64, input (10, 1), returnSequences) → Dense(1).</summary>
    private static Sequential DocumentModel(bool withInputShape = true) => new(
    [
        new LSTM(64, inputShape: withInputShape ? [10, 1] : null, returnSequences: true, name: "lstm"),
        new Dense(1, activation: "linear", name: "dense"),
    ], name: "sequential");

    /// <summary>A table row: <c>│ name (Type) │ shape │ count │</c> with any padding.</summary>
    private static Regex Row(string layer, string shape, string count) =>
        new($@"^│ {Regex.Escape(layer)} +│ {Regex.Escape(shape)} +│ +{Regex.Escape(count)} │$", RegexOptions.Multiline);

    [Fact]
    public void Summary_DocumentModel_KerasRowsAndTotals()
    {
        var model = DocumentModel();
        var writer = new StringWriter();
        model.Summary(writer);
        string text = writer.ToString();

        Assert.StartsWith("Model: \"sequential\"\n", text);
        Assert.Matches(new Regex(@"^┃ Layer \(type\) +┃ Output Shape +┃ +Param # ┃$", RegexOptions.Multiline), text);
        // LSTM: 4 · 64 · (1 + 64 + 1) = 16,896; Dense: 64 · 1 + 1 = 65.
        Assert.Matches(Row("lstm (LSTM)", "(None, 10, 64)", "16,896"), text);
        Assert.Matches(Row("dense (Dense)", "(None, 10, 1)", "65"), text);
        // 16,961 · 4 bytes = 67,844 B = 66.25 KB.
        Assert.Contains(" Total params: 16,961 (66.25 KB)\n", text);
        Assert.Contains(" Trainable params: 16,961 (66.25 KB)\n", text);
        Assert.Contains(" Non-trainable params: 0 (0.00 B)\n", text);
        Assert.DoesNotContain("Optimizer params", text);
        Assert.Equal(16961, model.CountParams());
        Assert.Equal(text, model.SummaryText());
    }

    [Fact]
    public void Summary_TableLines_AllTheSameWidth()
    {
        var lines = DocumentModel().SummaryText().Split('\n').Where(l => l.Length > 0 && "┏┃┡│├└".Contains(l[0])).ToList();
        Assert.Equal(7, lines.Count);   // top, header, rule, row, separator, row, bottom
        Assert.All(lines, l => Assert.Equal(lines[0].Length, l.Length));
    }

    [Fact]
    public void Summary_UnbuiltModel_QuestionMarksAndUnbuiltCounts()
    {
        string text = DocumentModel(withInputShape: false).SummaryText();
        Assert.Matches(Row("lstm (LSTM)", "?", "0 (unbuilt)"), text);
        Assert.Matches(Row("dense (Dense)", "?", "0 (unbuilt)"), text);
        Assert.Contains(" Total params: 0 (0.00 B)\n", text);
    }

    [Theory]
    // Adam: iterations + learning rate + 2 slots per weight = 2 + 2 · 16,961 = 33,924; 135,696 B = 132.52 KB.
    [InlineData("adam", "33,924 (132.52 KB)")]
    // RMSprop without momentum or centering: one slot per weight, 16,963; 67,852 B = 66.26 KB.
    [InlineData("rmsprop", "16,963 (66.26 KB)")]
    // SGD without momentum: only the iteration count and learning rate.
    [InlineData("sgd", "2 (8.00 B)")]
    public void Summary_AfterFit_OptimizerParamsAsKerasPrints(string optimizer, string expected)
    {
        var model = DocumentModel();
        model.Compile(optimizer: optimizer, loss: "mse");
        Assert.DoesNotContain("Optimizer params", model.SummaryText());
        model.Fit(randn(4, 10, 1), randn(4, 10, 1), verbose: 0);
        Assert.Contains($" Optimizer params: {expected}\n", model.SummaryText());
    }

    [Fact]
    public void Summary_LargeAndFrozenLayers_MegabytesAndNonTrainableCounts()
    {
        // LSTM(512) on one feature: 4 · 512 · (1 + 512 + 1) = 1,052,672 = 4,210,688 B = 4.02 MB.
        var model = new Sequential([new LSTM(512, inputShape: [10, 1], name: "big"), new Dense(3, name: "head")]);
        model.Layers[1].Trainable = false;
        string text = model.SummaryText();
        Assert.Matches(Row("big (LSTM)", "(None, 512)", "1,052,672"), text);
        Assert.Matches(Row("head (Dense)", "(None, 3)", "1,539"), text);
        Assert.Contains(" Total params: 1,054,211 (4.02 MB)\n", text);
        Assert.Contains(" Trainable params: 1,052,672 (4.02 MB)\n", text);
        Assert.Contains(" Non-trainable params: 1,539 (6.01 KB)\n", text);
    }
}
