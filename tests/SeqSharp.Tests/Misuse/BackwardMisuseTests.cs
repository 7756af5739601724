using System.Runtime.InteropServices;
using SeqSharp.Layers;
using SeqSharp.Layers.Kernels;
using SeqSharp.Losses;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Misuse;

/// <summary>
/// A recurrent kernel's backward runs inside a native callback, where an exception would abort the
/// process (exit code 134). Every misuse here runs in one child process and must end in a catchable
/// exception that says what happened, after which the layer and the model work again.
/// </summary>
public class BackwardMisuseTests
{
    private static readonly string[] Kinds = ["lstm", "lstm_peephole", "gru", "simple_rnn"];

    private static Rnn NewLayer(string kind, string name) => kind switch
    {
        "lstm" => new LSTM(4, inputShape: [5, 3], name: name),
        "lstm_peephole" => new LSTM(4, inputShape: [5, 3], usePeepholes: true, name: name),
        "gru" => new GRU(4, inputShape: [5, 3], name: name),
        _ => new SimpleRNN(4, inputShape: [5, 3], name: name),
    };

    private static string KindName(string kind) => kind switch { "gru" => "GRU", "simple_rnn" => "SimpleRNN", _ => "LSTM" };

    /// <summary>A loss that changes one layer's weights between the forward pass and backward, while armed.</summary>
    private sealed class MeddlingLoss(Sequential model, int layer = 0) : Loss("meddling", "sum_over_batch_size")
    {
        public bool Armed { get; set; } = true;

        public override Tensor Compute(Tensor yTrue, Tensor yPred)
        {
            if (Armed)
                model.Layers[layer].SetWeights(model.Layers[layer].GetWeights().Select(w => w * 0.5).ToList());
            return (yPred - yTrue).square().mean([-1L]);
        }
    }

    /// <summary>A custom function whose backward throws an arbitrary exception, through the same guard as the kernels.</summary>
    private sealed class FailingFunction : autograd.MultiTensorFunction<FailingFunction>
    {
        public override string Name => "Failing";

        public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
        {
            BackwardFailure.Remember(ctx, vars, "failing_layer");
            return [((Tensor)vars[0]) * 2];
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs) =>
            BackwardFailure.Run(ctx, "Test", () => throw new IndexOutOfRangeException("simulated fault"));
    }

    [ChildScenario]
    internal static void Scenarios()
    {
        foreach (string kind in Kinds)
        {
            string expected = $"Cannot compute the gradient of layer 'rec' ({KindName(kind)}): a tensor its forward pass saved for backward was changed in place";

            // The issue's single-threaded abort: Call, then SetWeights, then the user's own backward().
            var layer = NewLayer(kind, "rec");
            var x = randn(2, 5, 3);
            var y = layer.Call(x);
            layer.SetWeights(layer.GetWeights().Select(w => w + 1).ToList());
            var plain = Assert.Throws<ExternalException>(() => y.sum().backward());
            Assert.Contains("invalid gradient", plain.Message);
            // The same through Utils.Backward: the layer's own message.
            y = layer.Call(x);
            layer.SetWeights(layer.GetWeights().Select(w => w + 1).ToList());
            var named = Assert.Throws<InvalidOperationException>(() => Utils.Backward(y.sum()));
            Assert.StartsWith(expected, named.Message);
            // The layer works again: a fresh forward and backward reach the weights.
            layer.Call(x).sum().backward();
            Assert.All(layer.Weights, w => Assert.NotNull(w.grad));

            // Inside Fit: weights changed between the forward pass and backward.
            var model = new Sequential([NewLayer(kind, "rec"), new Dense(1, name: "head")]);
            var loss = new MeddlingLoss(model);
            model.Compile(optimizer: "sgd", loss: loss);
            var xs = randn(8, 5, 3);
            var ys = randn(8, 1);
            var fit = Assert.Throws<InvalidOperationException>(() => model.Fit(xs, ys, batchSize: 4, epochs: 1, verbose: 0));
            Assert.StartsWith(expected, fit.Message);
            loss.Armed = false;
            var history = model.Fit(xs, ys, batchSize: 4, epochs: 1, verbose: 0);
            Assert.True(double.IsFinite(history["loss"][^1]));
            Console.WriteLine($"{kind}: {fit.Message[..expected.Length]}");
        }

        // A model of LibTorch's own nodes only: the same misuse, the same kind of message, no raw ExternalException.
        var dense = new Sequential([new Dense(3, inputShape: [4], name: "d1"), new Dense(1, name: "d2")]);
        // The last layer: its kernel is saved to carry the gradient to the first (the first layer's kernel is not needed).
        dense.Compile(optimizer: "sgd", loss: new MeddlingLoss(dense, layer: 1));
        var denseError = Assert.Throws<InvalidOperationException>(() => dense.Fit(randn(8, 4), randn(8, 1), batchSize: 4, verbose: 0));
        Assert.StartsWith("Cannot compute the gradient of the model: a tensor its forward pass saved for backward was changed in place", denseError.Message);
        Assert.DoesNotContain("frame #", denseError.Message);

        // Any other failure inside a backward: caught there, thrown where backward() was called.
        var input = randn(3, requires_grad: true);
        var output = FailingFunction.apply(input)[0];
        var other = Assert.Throws<InvalidOperationException>(() => Utils.Backward(output.sum()));
        Assert.Equal("The backward pass of layer 'failing_layer' (Test) failed: IndexOutOfRangeException: simulated fault", other.Message);
        Assert.IsType<IndexOutOfRangeException>(other.InnerException);
        // Nothing is left behind for the next backward on this thread.
        (input * 3).sum().backward();
        Console.WriteLine("DONE");
    }

    /// <summary>A custom function whose backward throws without the guard: what every kernel did before.</summary>
    private sealed class UnguardedFunction : autograd.MultiTensorFunction<UnguardedFunction>
    {
        public override string Name => "Unguarded";

        public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars) => [((Tensor)vars[0]) * 2];

        public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs) =>
            throw new InvalidOperationException("thrown inside a native callback");
    }

    [ChildScenario]
    internal static void UnguardedBackward()
    {
        var input = randn(3, requires_grad: true);
        try
        {
            UnguardedFunction.apply(input)[0].sum().backward();
        }
        catch (Exception e)
        {
            Console.WriteLine($"CAUGHT {e.GetType().Name}");
        }
    }

    /// <summary>
    /// The harness sees the failure this class guards against: an exception leaving a managed
    /// backward ends the child with SIGABRT, whatever the caller's try/catch.
    /// </summary>
    [Fact]
    public void ChildProcess_ExceptionLeavingAManagedBackward_AbortsTheChild()
    {
        var result = ChildProcess.Run($"{nameof(BackwardMisuseTests)}.{nameof(UnguardedBackward)}");

        Assert.True(result.ExitCode == ChildResult.Aborted, $"Expected an abort: {result}");
        Assert.DoesNotContain("CAUGHT", result.Output);
    }

    [Fact]
    public void Backward_Misuses_EndInCatchableExceptionsNamingLayerAndCause()
    {
        var result = ChildProcess.Run($"{nameof(BackwardMisuseTests)}.{nameof(Scenarios)}");

        Assert.True(result.ExitCode != ChildResult.Aborted, $"The child aborted: {result}");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("DONE", result.Output);
    }
}
