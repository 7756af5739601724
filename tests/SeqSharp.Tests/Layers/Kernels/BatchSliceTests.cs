using SeqSharp.Layers;
using SeqSharp.Layers.Kernels;
using SeqSharp.Tests.TestSupport;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Layers.Kernels;

/// <summary>
/// Large enough sequences run on several batch slices in parallel. Small test shapes would run on
/// one, so these tests lower the threshold and check the split path (uneven slices included)
/// against LibTorch's modules, for training and for inference.
/// </summary>
public class BatchSliceTests
{
    [Theory]
    [InlineData("lstm", 5)]
    [InlineData("lstm", 2)]
    [InlineData("simple_rnn", 7)]
    [InlineData("gru", 5)]
    public void SeveralSlices_MatchNativeOutputsAndGradients(string cell, int batch)
    {
        long previous = BatchParallel.MinimumWork;
        BatchParallel.MinimumWork = 0;
        try
        {
            Assert.True(BatchParallel.Slices(batch, 1) > 1 || get_num_threads() == 1, "the split path is not taken");
            manual_seed(31 + batch);
            Layer layer;
            Func<Tensor, Tensor> native;
            switch (cell)
            {
                case "lstm":
                    var lstm = new LSTM(6, returnSequences: true);
                    lstm.Build([12, 3]);
                    using (no_grad()) lstm.Weights[2].uniform_(-0.5, 0.5);
                    var nativeLstm = NativeModules.Lstm(lstm);
                    (layer, native) = (lstm, x => nativeLstm.call(x).Item1);
                    break;
                case "simple_rnn":
                    var rnn = new SimpleRNN(6, returnSequences: true);
                    rnn.Build([12, 3]);
                    using (no_grad()) rnn.Weights[2].uniform_(-0.5, 0.5);
                    var nativeRnn = NativeModules.Rnn(rnn);
                    (layer, native) = (rnn, x => nativeRnn.call(x).Item1);
                    break;
                default:
                    var gru = new GRU(6, returnSequences: true);
                    gru.Build([12, 3]);
                    using (no_grad()) gru.Weights[2].uniform_(-0.5, 0.5);
                    var nativeGru = NativeModules.Gru(gru);
                    (layer, native) = (gru, x => nativeGru.call(x).Item1);
                    break;
            }
            var input = randn(batch, 12, 3);

            using (no_grad())
                TensorAssert.Close(native(input), layer.Call(input), atol: 1e-5, what: $"{cell} inference");

            var ours = input.clone().requires_grad_(true);
            var theirs = input.clone().requires_grad_(true);
            var y = layer.Call(ours);
            var expected = native(theirs);
            TensorAssert.Close(expected, y, atol: 1e-5, what: $"{cell} training forward");
            var probe = randn_like(expected);
            (y * probe).sum().backward();
            (expected * probe).sum().backward();
            TensorAssert.Close(theirs.grad!, ours.grad!, atol: 1e-5, rtol: 1e-4, what: $"{cell} input gradient");
        }
        finally
        {
            BatchParallel.MinimumWork = previous;
        }
    }
}
