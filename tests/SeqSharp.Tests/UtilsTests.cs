namespace SeqSharp.Tests;

public class UtilsTests
{
    private static readonly int[][] Sequences = [[1], [2, 3], [4, 5, 6]];

    private static long[] Values(Tensor t) => t.to_type(ScalarType.Int64).data<long>().ToArray();

    [Fact]
    public void PadSequences_KerasDocumentationExamples()
    {
        var pre = Utils.PadSequences(Sequences);
        Assert.Equal(ScalarType.Int32, pre.dtype);
        Assert.Equal(new long[] { 3, 3 }, pre.shape);
        Assert.Equal(new long[] { 0, 0, 1, 0, 2, 3, 4, 5, 6 }, Values(pre));
        Assert.Equal(new long[] { -1, -1, 1, -1, 2, 3, 4, 5, 6 }, Values(Utils.PadSequences(Sequences, value: -1)));
        Assert.Equal(new long[] { 1, 0, 0, 2, 3, 0, 4, 5, 6 }, Values(Utils.PadSequences(Sequences, padding: "post")));
        Assert.Equal(new long[] { 0, 1, 2, 3, 5, 6 }, Values(Utils.PadSequences(Sequences, maxlen: 2)));
    }

    [Fact]
    public void PadSequences_TruncatingPostAndEmptySequences()
    {
        int[][] sequences = [[1, 2, 3, 4], []];
        Assert.Equal(new long[] { 1, 2, 3, 0, 0, 0 }, Values(Utils.PadSequences(sequences, maxlen: 3, truncating: "post")));
    }

    [Fact]
    public void PadSequences_FloatDtype_KeepsValues()
    {
        double[][] sequences = [[0.5, 1.5], [2.5]];
        var padded = Utils.PadSequences(sequences, dtype: ScalarType.Float32, padding: "post", value: -1);
        Assert.Equal(new float[] { 0.5f, 1.5f, 2.5f, -1 }, padded.data<float>().ToArray());
    }

    [Fact]
    public void PadSequences_InvalidArguments_SayWhatWasReceived()
    {
        Assert.Contains("\"middle\"", Assert.Throws<ArgumentException>(() => Utils.PadSequences(Sequences, padding: "middle")).Message);
        Assert.Contains("\"both\"", Assert.Throws<ArgumentException>(() => Utils.PadSequences(Sequences, truncating: "both")).Message);
        Assert.Contains("maxlen=0", Assert.Throws<ArgumentOutOfRangeException>(() => Utils.PadSequences(Sequences, maxlen: 0)).Message);
    }
}
