using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Layers.Kernels;

/// <summary>
/// The fused kernels run their loops on raw addresses of tensors, some of them copies made inside
/// the kernel (a non-contiguous input is copied). Those tensors must stay alive until the loops end:
/// with garbage collections forced continuously on another thread, repeated calls must keep giving
/// the same results (a freed copy would give wrong values or crash the process).
/// </summary>
public class KernelLifetimeTests
{
    [Theory]
    [InlineData("lstm", 60)]
    [InlineData("rnn", 60)]
    // The GRU kernel works on tensor views, so collections only slow it down: fewer rounds.
    [InlineData("gru", 10)]
    public void Call_UnderContinuousGarbageCollection_GivesStableResults(string cell, int rounds)
    {
        manual_seed(5);
        Rnn layer = cell switch
        {
            "lstm" => new LSTM(24, returnSequences: true),
            "rnn" => new SimpleRNN(24, returnSequences: true),
            _ => new GRU(24, returnSequences: true),
        };
        var model = new Sequential([layer]);
        // (time, batch, features) permuted to (batch, time, features): not contiguous, so the kernels copy it.
        var x = randn(40, 16, 6).permute(1, 0, 2);
        Assert.False(x.is_contiguous());
        var expected = model.Predict(x.contiguous(), verbose: 0);
        var probe = randn(16, 40, 24);
        var expectedGrad = Gradient(layer, x, probe);

        bool stop = false;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        collector.Start();
        try
        {
            for (int k = 0; k < rounds; k++)
            {
                using var scope = NewDisposeScope();
                TensorAssert.Close(expected, model.Predict(x, verbose: 0), atol: 0, what: $"prediction {k}");
                TensorAssert.Close(expectedGrad, Gradient(layer, x, probe), atol: 0, what: $"input gradient {k}");
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            collector.Join();
        }
    }

    private static Tensor Gradient(Rnn layer, Tensor x, Tensor probe)
    {
        var input = x.detach().requires_grad_(true);
        layer.train();
        (layer.Call(input) * probe).sum().backward();
        layer.eval();
        return input.grad!.detach().clone();
    }
}
