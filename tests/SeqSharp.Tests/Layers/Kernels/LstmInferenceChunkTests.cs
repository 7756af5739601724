using SeqSharp.Layers.Kernels;
using SeqSharp.Tests.TestSupport;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Layers.Kernels;

/// <summary>
/// LSTM inference projects the inputs a chunk of steps at a time. Whatever the chunk (one step,
/// a size that leaves a remainder, the whole sequence), the outputs and final states must be LibTorch's.
/// </summary>
public class LstmInferenceChunkTests
{
    [Theory]
    [InlineData(1, 1, 11)]        // one step per chunk
    [InlineData(3 * 5 * 24, 5, 11)]   // 5 rows: chunks of 3, 3, 3, 2 steps
    [InlineData(1 << 18, 6, 11)]  // the default: the whole sequence in one chunk
    [InlineData(3 * 9 * 24, 9, 23)]   // 9 rows: chunks of 3, the last of 2
    [InlineData(7 * 4 * 24, 7, 200)]  // two batch slices (3 and 4 rows): chunks of 9 and of 7 steps
    public void Infer_AnyChunkSize_MatchesNativeLstm(int chunkElements, int batch, int steps)
    {
        manual_seed(chunkElements + batch);
        var layer = new LSTM(6, returnSequences: true, returnState: false);
        layer.Build([steps, 4]);
        using (no_grad())
            layer.Weights[2].uniform_(-0.5, 0.5);
        var native = NativeModules.Lstm(layer);
        var x = randn(batch, steps, 4);

        int previous = LstmFunction.InferenceChunkElements;
        long previousWork = BatchParallel.MinimumWork;
        LstmFunction.InferenceChunkElements = chunkElements;
        BatchParallel.MinimumWork = 8000;   // the (7, 200) case runs on two slices
        try
        {
            using var _ = no_grad();
            var (expected, lastHidden, lastCell) = native.call(x);
            var (outputs, states) = layer.CallWithState(x);
            TensorAssert.Close(expected, outputs, atol: 1e-5, what: "hidden states");
            TensorAssert.Close(lastHidden[0], states[0], atol: 1e-5, what: "last hidden state");
            TensorAssert.Close(lastCell[0], states[1], atol: 1e-5, what: "last cell state");
        }
        finally
        {
            LstmFunction.InferenceChunkElements = previous;
            BatchParallel.MinimumWork = previousWork;
        }
    }
}
