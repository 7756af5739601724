namespace SeqSharp.Examples.SentimentLstm;

/// <summary>A generated review sentence and its sentiment (1 positive, 0 negative).</summary>
/// <param name="Text">The sentence, lower case, words separated by spaces.</param>
/// <param name="Label">1 for positive, 0 for negative.</param>
/// <param name="Negated">Whether the deciding clause is negated ("not good", "never boring").</param>
/// <param name="Contrast">Whether the sentence has two clauses joined by "but" (the second decides).</param>
public sealed record Review(string Text, int Label, bool Negated, bool Contrast);

/// <summary>
/// Templated movie-review sentences whose sentiment needs word order: negations flip an
/// adjective ("not bad" is positive) and in "X but Y" the clause after "but" decides. A
/// bag-of-words model cannot get these right; a recurrent model that reads the sentence in order can.
/// </summary>
public static class ReviewData
{
    private static readonly string[] Subjects = ["the movie", "this film", "the plot", "the acting", "the soundtrack", "the ending", "the story", "the cast", "the dialogue", "the pacing"];
    private static readonly string[] Verbs = ["was", "is", "felt", "seemed"];
    private static readonly string[] Adverbs = ["really", "very", "quite", "truly", "rather", "so"];
    private static readonly string[] Positive = ["good", "great", "wonderful", "brilliant", "enjoyable", "moving", "excellent", "fun", "charming", "superb"];
    private static readonly string[] Negative = ["bad", "boring", "awful", "terrible", "dull", "weak", "disappointing", "predictable", "tedious", "poor"];
    private static readonly string[] Negations = ["not", "never"];
    private static readonly string[] Openers = ["honestly", "overall", "i think", "to be fair", "in the end"];

    /// <summary>Generates <paramref name="count"/> reviews, half of them positive.</summary>
    public static List<Review> Generate(int count, Random random)
    {
        T Pick<T>(T[] items) => items[random.Next(items.Length)];
        (string Text, int Label, bool Negated) Clause()
        {
            bool positive = random.Next(2) == 0;
            bool negated = random.NextDouble() < 0.35;
            var words = new List<string> { Pick(Subjects), Pick(Verbs) };
            if (negated)
                words.Add(Pick(Negations));
            if (random.NextDouble() < 0.4)
                words.Add(Pick(Adverbs));
            words.Add(positive ? Pick(Positive) : Pick(Negative));
            return (string.Join(' ', words), positive ^ negated ? 1 : 0, negated);
        }

        var reviews = new List<Review>(count);
        for (int i = 0; i < count; i++)
        {
            var last = Clause();
            bool contrast = random.NextDouble() < 0.3;
            string text = last.Text;
            if (contrast)
            {
                // The first clause has the opposite sentiment, so ignoring "but" gets it wrong.
                (string Text, int Label, bool Negated) first;
                do first = Clause(); while (first.Label == last.Label);
                text = $"{first.Text} but {last.Text}";
            }
            if (random.NextDouble() < 0.3)
                text = $"{Pick(Openers)} {text}";
            reviews.Add(new Review(text, last.Label, last.Negated, contrast));
        }
        return reviews;
    }
}
