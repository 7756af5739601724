namespace SeqSharp.Examples.SentimentLstm;

/// <summary>
/// A tiny tokenizer like Keras's <c>Tokenizer(oov_token=...)</c>: words split on spaces, indexed
/// by frequency in the training texts from 2 on; 1 is the out-of-vocabulary token and 0 is left
/// for padding (masked by <c>Embedding(maskZero: true)</c>).
/// </summary>
public sealed class WordIndex
{
    private const int OutOfVocabulary = 1;
    private readonly Dictionary<string, int> _index;

    public WordIndex(IEnumerable<string> texts)
    {
        _index = texts.SelectMany(Words)
            .GroupBy(w => w)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select((g, i) => (g.Key, Index: i + 2))
            .ToDictionary(p => p.Key, p => p.Index);
    }

    /// <summary>The largest index + 1: the Embedding's <c>inputDim</c>.</summary>
    public int InputDim => _index.Count + 2;

    /// <summary>The word indices of a text.</summary>
    public int[] Encode(string text) => Words(text).Select(w => _index.GetValueOrDefault(w, OutOfVocabulary)).ToArray();

    private static string[] Words(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
