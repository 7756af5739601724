using SeqSharp.Layers;
using SeqSharp.Losses;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using KerasAdam = SeqSharp.Optimizers.Adam;

namespace SeqSharp.Benchmarks;

/// <summary>The timed actions: each builds its model and data once and returns a closure for one unit of work.</summary>
internal static class Workloads
{
    /// <summary>One training step (forward, mean-squared loss on the output sequence, backward, torch.optim.Adam) of a recurrent module.</summary>
    public static Action TrainStep(nn.Module<Tensor, Tensor> module, IEnumerable<Parameter> parameters, Shape shape)
    {
        var x = randn(shape.Batch, shape.Steps, shape.Features);
        var target = randn(shape.Batch, shape.Steps, shape.Units);
        var optimizer = optim.Adam(parameters, 1e-3);
        module.train();
        return () =>
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var y = module.call(x);
            var loss = (y - target).pow(2).mean();
            loss.backward();
            optimizer.step();
        };
    }

    /// <summary>Our Predict (no gradients, inference mode) on a model holding only the recurrent layer.</summary>
    public static Action OursPredict(Rnn layer, Shape shape, int verbose = 0)
    {
        var model = new Sequential([layer]);
        var x = randn(shape.Batch, shape.Steps, shape.Features);
        return () => model.Predict(x, batchSize: shape.Batch, verbose: verbose).Dispose();
    }

    /// <summary>What a TorchSharp user writes for inference with the native module.</summary>
    public static Action NativePredict(nn.Module<Tensor, Tensor> module, Shape shape)
    {
        var x = randn(shape.Batch, shape.Steps, shape.Features);
        module.eval();
        return () =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            module.call(x);
        };
    }

    public const int BatchesPerEpoch = 8;

    /// <summary>The document's model (LSTM with returnSequences, Dense(1)) trained with our Fit for one epoch of <see cref="BatchesPerEpoch"/> batches.</summary>
    public static (Action Epoch, Sequential Model, Tensor X, Tensor Y) OursFit(Shape shape)
    {
        var model = new Sequential();
        model.Add(new SeqSharp.Layers.LSTM(shape.Units, returnSequences: true, inputShape: [shape.Steps, shape.Features]));
        model.Add(new Dense(1));
        model.Compile(optimizer: new KerasAdam(), loss: "mse");
        var x = randn(shape.Batch * BatchesPerEpoch, shape.Steps, shape.Features);
        var y = randn(shape.Batch * BatchesPerEpoch, shape.Steps, 1);
        return (() => model.Fit(x, y, batchSize: shape.Batch, epochs: 1, shuffle: false, verbose: 0), model, x, y);
    }

    /// <summary>A hand-written loop around our own layers, loss and optimizer: what Fit does without its bookkeeping.</summary>
    public static Action OursHandLoop(Shape shape)
    {
        var (_, model, x, y) = OursFit(shape);
        var optimizer = new KerasAdam();
        var loss = new MeanSquaredError();
        var weights = model.Layers.SelectMany(l => l.Weights).ToList();
        model.train();
        return () =>
        {
            for (int b = 0; b < BatchesPerEpoch; b++)
            {
                using var scope = NewDisposeScope();
                var xb = x.narrow(0, (long)b * shape.Batch, shape.Batch);
                var yb = y.narrow(0, (long)b * shape.Batch, shape.Batch);
                foreach (var w in weights)
                    w.grad = null;
                loss.Call(yb, model.Call(xb)).backward();
                optimizer.Step(weights);
            }
        };
    }

    /// <summary>What a TorchSharp user writes instead of Fit: nn.LSTM + nn.Linear, mse_loss, torch.optim.Adam, the same batches.</summary>
    public static Action NativeHandLoop(Shape shape)
    {
        var lstm = nn.LSTM(shape.Features, shape.Units, batchFirst: true);
        var head = nn.Linear(shape.Units, 1);
        var parameters = lstm.parameters().Concat(head.parameters()).ToList();
        var optimizer = optim.Adam(parameters, 1e-3);
        var x = randn(shape.Batch * BatchesPerEpoch, shape.Steps, shape.Features);
        var y = randn(shape.Batch * BatchesPerEpoch, shape.Steps, 1);
        return () =>
        {
            for (int b = 0; b < BatchesPerEpoch; b++)
            {
                using var scope = NewDisposeScope();
                var xb = x.narrow(0, (long)b * shape.Batch, shape.Batch);
                var yb = y.narrow(0, (long)b * shape.Batch, shape.Batch);
                optimizer.zero_grad();
                var (sequence, _, _) = lstm.call(xb);
                nn.functional.mse_loss(head.call(sequence), yb).backward();
                optimizer.step();
            }
        };
    }

    /// <summary>The float32 matrix-product rate of a square product of size <paramref name="n"/>, GFLOP/s (median of 5).</summary>
    public static double MatmulRate(int n = 2048)
    {
        var a = randn(n, n);
        var b = randn(n, n);
        var c = zeros(n, n);
        c.addmm_(a, b, 0, 1);
        var times = new List<double>();
        for (int k = 0; k < 5; k++)
            times.Add(Timing.Time(() => c.addmm_(a, b, 0, 1), 2));
        return 2.0 * n * n * n / Timing.Median(times) / 1e9;
    }
}
