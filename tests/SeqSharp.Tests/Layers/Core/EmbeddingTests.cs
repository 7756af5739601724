using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using Embedding = SeqSharp.Layers.Embedding;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Layers.Core;

public class EmbeddingTests
{
    [Fact]
    public void Call_IntegerIndices_ReturnRowsOfTheMatrix()
    {
        var x = tensor(new long[] { 1, 0, 9, 4, 4, 2 }, [2, 3]);
        LayerHarness.Run(new Embedding(10, 3), x, [2, 3, 3], trainableWeights: 1, parameters: 30);
        var layer = new Embedding(10, 3);
        var y = layer.Call(x);
        var table = layer.Embeddings!;
        TensorAssert.Close(table[9], y[0, 2], atol: 0);
        TensorAssert.Close(table[4], y[1, 0], atol: 0);
    }

    [Fact]
    public void Call_FloatHoldingIntegers_SameAsIntegerIndices()
    {
        var layer = new Embedding(5, 2);
        var ints = tensor(new long[] { 0, 3, 4 }, [1, 3]);
        TensorAssert.Close(layer.Call(ints), layer.Call(ints.to_type(ScalarType.Float32)), atol: 0);
    }

    [Fact]
    public void Call_Gradient_AccumulatesPerIndex()
    {
        var layer = new Embedding(4, 2);
        var x = tensor(new long[] { 1, 1, 3 }, [1, 3]);
        var probe = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [1, 3, 2]);
        (layer.Call(x) * probe).sum().backward();
        Assert.Equal(new float[] { 0, 0, 4, 6, 0, 0, 5, 6 }, layer.Embeddings!.grad!.data<float>().ToArray());
    }

    [Theory]
    [InlineData(10f)]
    [InlineData(-1f)]
    public void Call_IndexOutOfRange_ThrowsWithRangeAndValues(float bad)
    {
        var layer = new Embedding(10, 2, name: "emb");
        var e = Assert.Throws<ArgumentException>(() => layer.Call(tensor(new[] { 1f, bad }, [1, 2])));
        Assert.Contains("'emb' expects indices in [0, 10)", e.Message);
        Assert.Contains(bad.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void Call_FractionalIndex_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new Embedding(10, 2).Call(tensor(new[] { 1.5f }, [1, 1])));
        Assert.Contains("whole-number", e.Message);
    }

    [Fact]
    public void Build_DefaultInitializer_IsKerasUniform005()
    {
        manual_seed(1);
        var layer = new Embedding(1000, 20);
        layer.Build([3]);
        var table = layer.Embeddings!;
        Assert.True(table.abs().max().item<float>() <= 0.05f);
        Assert.True(table.abs().max().item<float>() > 0.049f);
    }

    [Fact]
    public void CallWithMask_MaskZero_MaskIsIndexNotZero()
    {
        var x = tensor(new long[] { 0, 0, 3, 5 }, [2, 2]);
        Assert.Equal(new[] { false, false, true, true }, new Embedding(6, 2, maskZero: true).CallWithMask(x, null).Mask!.data<bool>().ToArray());
        Assert.Null(new Embedding(6, 2).CallWithMask(x, null).Mask);
    }

    [Fact]
    public void Sequential_MaskZeroThenLstm_EqualsLstmOnUnpaddedSequences()
    {
        manual_seed(2);
        var embedding = new Embedding(8, 3, maskZero: true, inputShape: [5]);
        var lstm = new LSTM(4);
        var model = new Sequential([embedding, lstm]);
        var x = tensor(new long[] { 0, 0, 3, 1, 7, 2, 5, 6, 1, 4 }, [2, 5]);
        var y = model.Predict(x, verbose: 0);

        var native = NativeModules.Lstm(lstm);
        var (first, _, _) = native.call(embedding.Call(x[0..1, 2..]));
        var (second, _, _) = native.call(embedding.Call(x[1..2]));
        TensorAssert.Close(first[0, -1], y[0], atol: 1e-6, what: "pre-padded sample");
        TensorAssert.Close(second[0, -1], y[1], atol: 1e-6, what: "full sample");
    }

    [Fact]
    public void Constructor_InputLength_DeclaresTheInputShape()
    {
        Assert.Equal(new long[] { 12 }, new Embedding(5, 2, inputLength: 12).InputShape);
        var e = Assert.Throws<ArgumentException>(() => new Embedding(5, 2, inputLength: 12, inputShape: [10]));
        Assert.Contains("inputLength=12", e.Message);
        Assert.Contains("inputDim=0", Assert.Throws<ArgumentOutOfRangeException>(() => new Embedding(0, 2)).Message);
    }
}
