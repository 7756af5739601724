using SeqSharp.Layers.Kernels;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Layers.Kernels;

/// <summary>
/// Large enough sequences run on several batch slices in parallel. Small test shapes would run on
/// one, so these tests lower the threshold and check the split path (uneven slices included)
/// against LibTorch's modules, for inference and for training (input and weight gradients).
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
            var (layer, native, toKeras) = RecurrentPairs.Create(cell, features: 3, units: 6, steps: 12);
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
            for (int k = 0; k < layer.Weights.Count; k++)
                TensorAssert.Close(toKeras(k), layer.Weights[k].grad!, atol: 1e-5, rtol: 1e-4, what: $"{cell} weight {k} gradient");
        }
        finally
        {
            BatchParallel.MinimumWork = previous;
        }
    }
}
