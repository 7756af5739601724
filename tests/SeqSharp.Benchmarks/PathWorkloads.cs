using System.Globalization;
using SeqSharp.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Benchmarks;

/// <summary>
/// The paths real scripts hit besides the plain call: a padding mask (half the samples padded at
/// the end) and recurrent dropout. Each is checked against float64 before it is timed.
/// </summary>
internal static class PathWorkloads
{
    /// <summary>
    /// A post-padding mask <c>(batch, timesteps)</c>: the first half of the samples are full length,
    /// the others between a quarter and three quarters of it (seeded), as a batch of sentences
    /// padded to the longest.
    /// </summary>
    public static (Tensor Mask, long[] Lengths) HalfPadded(Shape shape)
    {
        var random = new Random(5);
        var lengths = Enumerable.Range(0, shape.Batch)
            .Select(b => b < shape.Batch / 2 ? (long)shape.Steps : random.Next(Math.Max(1, shape.Steps / 4), Math.Max(2, 3 * shape.Steps / 4 + 1)))
            .ToArray();
        var mask = arange(shape.Steps).unsqueeze(0).lt(tensor(lengths).unsqueeze(1));
        return (mask, lengths);
    }

    /// <summary>Our layer with the given recurrent dropout and the weights of <paramref name="like"/>.</summary>
    public static Rnn WithRecurrentDropout(string cell, Shape shape, Rnn like, double rate)
    {
        Rnn layer = cell switch
        {
            "lstm" => new SeqSharp.Layers.LSTM(shape.Units, returnSequences: true, recurrentDropout: rate, seed: 3),
            "rnn" => new SimpleRNN(shape.Units, returnSequences: true, recurrentDropout: rate, seed: 3),
            _ => new SeqSharp.Layers.GRU(shape.Units, returnSequences: true, recurrentDropout: rate, seed: 3),
        };
        layer.Build([shape.Steps, shape.Features]);
        layer.SetWeights(like.GetWeights());
        return layer;
    }

    /// <summary>One training step of our layer (MSE on the output sequence, torch.optim.Adam), with a mask or without.</summary>
    public static Action TrainStep(Rnn layer, Shape shape, Tensor? mask)
    {
        var x = randn(shape.Batch, shape.Steps, shape.Features);
        var target = randn(shape.Batch, shape.Steps, shape.Units);
        var optimizer = optim.Adam(layer.Weights, 1e-3);
        layer.train();
        return () =>
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var y = layer.CallWithMask(x, mask).Output;
            (y - target).pow(2).mean().backward();
            optimizer.step();
        };
    }

    /// <summary>Our layer's inference call (no gradients, inference mode), with a mask or without.</summary>
    public static Action Infer(Rnn layer, Shape shape, Tensor? mask)
    {
        var x = randn(shape.Batch, shape.Steps, shape.Features);
        return () =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            layer.eval();
            layer.CallWithMask(x, mask);
        };
    }

    /// <summary>
    /// LibTorch's way to skip padding: <c>pack_padded_sequence</c> into the native module, then
    /// <c>pad_packed_sequence</c>; a training step (MSE on the padded output) or, with
    /// <paramref name="training"/> false, a no_grad forward.
    /// </summary>
    public static Action NativePacked(string cell, Rnn ours, Shape shape, long[] lengths, bool training)
    {
        var module = NativeModule(cell, ours, ScalarType.Float32);
        var x = randn(shape.Batch, shape.Steps, shape.Features);
        var target = randn(shape.Batch, shape.Steps, shape.Units);
        var lengthTensor = tensor(lengths);
        var optimizer = optim.Adam(module.parameters(), 1e-3);
        return () =>
        {
            using var scope = NewDisposeScope();
            if (!training)
            {
                using var _ = no_grad();
                Packed(module, x, lengthTensor, shape.Steps);
                return;
            }
            optimizer.zero_grad();
            var y = Packed(module, x, lengthTensor, shape.Steps);
            (y - target).pow(2).mean().backward();
            optimizer.step();
        };
    }

    /// <summary>
    /// Checks the masked and recurrent-dropout paths before timing: our fused kernel against our
    /// op-by-op loop in float64 (outputs, and the input and weight gradients of a random projection),
    /// our float32 masked call against float64, and the native packed path against itself in float64.
    /// Returns a summary; throws when ours is off.
    /// </summary>
    public static string Check(string cell, Rnn ours, Shape shape, Tensor mask, long[] lengths)
    {
        using var scope = NewDisposeScope();
        var invariant = CultureInfo.InvariantCulture;
        var x = randn(shape.Batch, shape.Steps, shape.Features);
        var x64 = x.to_type(ScalarType.Float64);
        var reference = Copy(cell, ours, shape, ScalarType.Float64, 0);
        reference.Implementation = RecurrentImplementation.OpByOp;
        var truth = reference.CallWithMask(x64, mask).Output.detach();

        // Fused against op by op, float64, masked: outputs and gradients.
        double maskedFused = FusedVsOpByOp(() => Copy(cell, ours, shape, ScalarType.Float64, 0), x64, mask, training: false);
        // Fused against op by op, float64, recurrent dropout with the same seed (the same masks).
        double dropoutFused = FusedVsOpByOp(() => Copy(cell, ours, shape, ScalarType.Float64, 0.2), x64, mask: null, training: true);
        double masked32;
        using (no_grad())
            masked32 = (truth - ours.CallWithMask(x, mask).Output.to_type(ScalarType.Float64)).abs().max().item<double>();
        if (maskedFused > 1e-9 || dropoutFused > 1e-9 || masked32 > BaselineCheck.Tolerance)
            throw new InvalidOperationException(string.Create(invariant,
                $"Our {cell} masked/dropout path is wrong on {shape.Name}: fused vs op-by-op (float64) masked {maskedFused:E1}, dropout {dropoutFused:E1}; float32 masked vs float64 {masked32:E1}."));

        // The native packed path against itself in float64 (its outputs are zeros at padded steps, Keras's are not: compared where both are defined).
        var native32 = NativeModule(cell, ours, ScalarType.Float32);
        var native64 = NativeModule(cell, ours, ScalarType.Float64);
        double native;
        using (no_grad())
        {
            var lengthTensor = tensor(lengths);
            var a = Packed(native32, x, lengthTensor, shape.Steps).to_type(ScalarType.Float64);
            var b = Packed(native64, x64, lengthTensor, shape.Steps);
            native = (a - b).abs().max().item<double>();
            var kept = mask.unsqueeze(2);
            double agree = ((b - truth) * kept).abs().max().item<double>();
            if (agree > 1e-9)
                throw new InvalidOperationException(string.Create(invariant, $"The native packed {cell} does not compute what our masked layer does ({agree:E1})."));
        }
        return string.Create(invariant,
            $"fused vs op-by-op (float64): masked {maskedFused:E1}, recurrent dropout {dropoutFused:E1}; ours float32 masked vs float64 {masked32:E1}; native packed float32 vs float64 {native:E1}{(native > BaselineCheck.Tolerance ? " WRONG" : "")}");
    }

    /// <summary>Max |difference| between the fused and op-by-op calls of a float64 layer (outputs and gradients); dropout masks drawn alike from the layer's seed.</summary>
    private static double FusedVsOpByOp(Func<Rnn> create, Tensor x, Tensor? mask, bool training)
    {
        Rnn layer = create(), twin = create();
        if (training)
        {
            layer.train();
            twin.train();
        }
        layer.Implementation = RecurrentImplementation.Fused;
        twin.Implementation = RecurrentImplementation.OpByOp;
        double worst = 0;
        var probe = randn(x.shape[0], x.shape[1], layer.Units, dtype: x.dtype);
        var grads = new List<IList<Tensor>>();
        var outputs = new List<Tensor>();
        foreach (var l in new[] { layer, twin })
        {
            var input = x.clone().requires_grad_(true);
            var y = l.CallWithMask(input, mask).Output;
            outputs.Add(y.detach());
            grads.Add(autograd.grad([(y * probe).sum()], [input, .. l.Weights]));
        }
        worst = Math.Max(worst, (outputs[0] - outputs[1]).abs().max().item<double>());
        for (int k = 0; k < grads[0].Count; k++)
            worst = Math.Max(worst, (grads[0][k] - grads[1][k]).abs().max().item<double>());
        return worst;
    }

    private static Rnn Copy(string cell, Rnn ours, Shape shape, ScalarType dtype, double recurrentDropout)
    {
        Rnn layer = cell switch
        {
            "lstm" => new SeqSharp.Layers.LSTM(shape.Units, returnSequences: true, recurrentDropout: recurrentDropout, seed: 3, dtype: dtype),
            "rnn" => new SimpleRNN(shape.Units, returnSequences: true, recurrentDropout: recurrentDropout, seed: 3, dtype: dtype),
            _ => new SeqSharp.Layers.GRU(shape.Units, returnSequences: true, recurrentDropout: recurrentDropout, seed: 3, dtype: dtype),
        };
        layer.Build([shape.Steps, shape.Features]);
        layer.SetWeights(ours.GetWeights().Select(w => w.to_type(dtype)).ToArray());
        return layer;
    }

    private static nn.Module NativeModule(string cell, Rnn ours, ScalarType dtype)
    {
        var wrapped = Models.Native(cell, ours, dtype);
        return wrapped.named_children().Single().module;
    }

    /// <summary>The padded output <c>(batch, timesteps, units)</c> of a native module run on the packed sequence.</summary>
    private static Tensor Packed(nn.Module module, Tensor x, Tensor lengths, long steps)
    {
        var packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first: true, enforce_sorted: false);
        var output = module switch
        {
            TorchSharp.Modules.LSTM lstm => lstm.call(packed).Item1,
            TorchSharp.Modules.GRU gru => gru.call(packed).Item1,
            TorchSharp.Modules.RNN rnn => rnn.call(packed).Item1,
            _ => throw new InvalidOperationException(),
        };
        return nn.utils.rnn.pad_packed_sequence(output, batch_first: true, total_length: steps).Item1;
    }
}
