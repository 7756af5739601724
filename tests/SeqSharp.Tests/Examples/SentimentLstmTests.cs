using SeqSharp.Examples.SentimentLstm;

namespace SeqSharp.Tests.Examples;

[Collection(ExampleCollection.Name)]
public class SentimentLstmTests
{
    [Fact]
    public void Run_SmallForm_BidirectionalLstmBeatsBagOfWordsOnWordOrder()
    {
        var log = new StringWriter();
        var result = ExampleCollection.SingleThreaded(() => SentimentExample.Run(SentimentOptions.Small, log));
        Assert.True(result.Accuracy >= 0.9, $"accuracy {result.Accuracy:P1}");
        Assert.True(result.NegatedAccuracy >= 0.85, $"negated {result.NegatedAccuracy:P1}");
        Assert.True(result.Accuracy > result.BagOfWordsAccuracy + 0.05, $"LSTM {result.Accuracy:P1} vs bag of words {result.BagOfWordsAccuracy:P1}");
        Assert.Contains("(Bidirectional)", log.ToString());
    }

    [Fact]
    public void Generate_LabelsFollowNegationAndTheClauseAfterBut()
    {
        var reviews = ReviewData.Generate(400, new Random(2));
        Assert.InRange(reviews.Average(r => r.Label), 0.4, 0.6);
        foreach (var review in reviews.Where(r => r.Contrast))
            Assert.Contains(" but ", review.Text);
        var words = new WordIndex(["the movie was good", "the plot was bad"]);
        Assert.Equal(new[] { 1, 2, 3 }, words.Encode("unknownword the was"));   // out of vocabulary, then by frequency
        Assert.True(words.Encode("movie plot good bad").All(i => i is >= 4 and <= 7));
        Assert.Equal(8, words.InputDim);   // 6 words + padding + out-of-vocabulary
    }
}
