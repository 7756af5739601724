using static TorchSharp.torch;

namespace SeqSharp.Examples.Seq2SeqReverse;

/// <summary>
/// Digit sequences and their reversals, one-hot encoded as Keras's character-level seq2seq example
/// encodes text: the encoder reads the digits, the decoder writes them backwards, starting from a
/// start token and fed the true previous digit during training (teacher forcing).
/// </summary>
public static class ReverseData
{
    /// <summary>Ten digits and the start token.</summary>
    public const int Vocabulary = 11;

    /// <summary>The token that starts every decoder input.</summary>
    public const int Start = 10;

    /// <summary>
    /// Distinct random digit sequences of <paramref name="length"/>, split into a training set and a
    /// held-out set that shares no sequence with it.
    /// </summary>
    public static (long[][] Train, long[][] Test) Sequences(int length, int train, int test, int seed)
    {
        if (Math.Pow(10, length) < train + test)
            throw new ArgumentOutOfRangeException(nameof(train), $"Only 10^{length} distinct sequences of length {length}. Received: train={train}, test={test}.");
        var random = new Random(seed);
        var seen = new HashSet<string>();
        var all = new List<long[]>();
        while (all.Count < train + test)
        {
            var digits = Enumerable.Range(0, length).Select(_ => (long)random.Next(10)).ToArray();
            if (seen.Add(string.Concat(digits)))
                all.Add(digits);
        }
        return (all.Take(train).ToArray(), all.Skip(train).ToArray());
    }

    /// <summary>One-hot <c>(samples, steps, 11)</c> float32 tensor of token ids <c>(samples, steps)</c>.</summary>
    public static Tensor OneHot(Tensor ids) => nn.functional.one_hot(ids, Vocabulary).to_type(ScalarType.Float32);

    /// <summary>
    /// The three arrays of teacher-forced training: encoder input (the digits), decoder input (the
    /// start token, then the reversed digits but the last) and decoder target (the reversed digits),
    /// each <c>(samples, length, 11)</c>; and the target ids <c>(samples, length)</c>.
    /// </summary>
    public static (Tensor EncoderX, Tensor DecoderX, Tensor DecoderY, Tensor TargetIds) Encode(long[][] sequences)
    {
        int length = sequences[0].Length;
        var ids = tensor(sequences.SelectMany(s => s).ToArray()).reshape(sequences.Length, length);
        var reversed = ids.flip(1);
        var decoderIds = cat([full(sequences.Length, 1, Start, ScalarType.Int64), reversed[.., ..(length - 1)]], 1);
        return (OneHot(ids), OneHot(decoderIds), OneHot(reversed), reversed);
    }
}
