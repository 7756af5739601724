using SeqSharp.Layers;
using SeqSharp.Layers.Kernels;
using SeqSharp.Tests.TestSupport;
using Xunit.Abstractions;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Layers.Wrappers;

/// <summary>
/// <see cref="Bidirectional"/> runs its two directions at the same time (one on a pool thread): the
/// outputs, states and gradients must be those of the serial run bit for bit, right against float64
/// op-by-op references, and every tensor the worker creates must end in the caller's dispose scope.
/// </summary>
[Collection(GlobalStateCollection.Name)]
public sealed class BidirectionalConcurrencyTests : IDisposable
{
    private readonly ITestOutputHelper output;

    /// <summary>The worker always runs the second direction here (on a busy machine the caller may otherwise take it over).</summary>
    public BidirectionalConcurrencyTests(ITestOutputHelper output)
    {
        this.output = output;
        ConcurrentDirections.CallerMayTakeOver = false;
    }

    public void Dispose() => ConcurrentDirections.CallerMayTakeOver = true;

    private static Rnn Create(string cell, bool returnSequences, ScalarType dtype = ScalarType.Float32, int units = 5) => cell switch
    {
        "lstm" => new LSTM(units, returnSequences: returnSequences, dtype: dtype),
        "gru" => new GRU(units, returnSequences: returnSequences, dtype: dtype),
        _ => new SimpleRNN(units, returnSequences: returnSequences, dtype: dtype),
    };

    private static Bidirectional Built(string cell, bool returnSequences, long[] sample, ScalarType dtype = ScalarType.Float32)
    {
        var layer = new Bidirectional(Create(cell, returnSequences, dtype));
        layer.Build(sample);
        using (no_grad())
        {
            foreach (var w in layer.Weights)
                w.add_(0.1 * randn_like(w));
        }
        return layer;
    }

    private static T Serially<T>(Func<T> body)
    {
        ConcurrentDirections.Enabled = false;
        try
        {
            return body();
        }
        finally
        {
            ConcurrentDirections.Enabled = true;
        }
    }

    /// <summary>Output and the gradients of the input and every weight for a random projection of the output.</summary>
    private static (Tensor Output, Tensor[] Gradients) Step(Bidirectional layer, Tensor x, Tensor? mask, Tensor probe)
    {
        var input = x.clone().requires_grad_(true);
        foreach (var w in layer.Weights)
            w.grad = null;
        var y = layer.CallWithMask(input, mask).Output;
        (y * probe).sum().backward();
        return (y.detach(), [input.grad!.clone(), .. layer.Weights.Select(w => w.grad!.clone())]);
    }

    public static TheoryData<string, bool, bool, int> Cases()
    {
        var cases = new TheoryData<string, bool, bool, int>();
        foreach (var cell in new[] { "lstm", "gru", "simple_rnn" })
        {
            // returnSequences, masked, batch (both run each direction as one slice, the case that runs them at once)
            cases.Add(cell, true, false, 48);
            cases.Add(cell, false, true, 48);
            cases.Add(cell, true, true, 1);
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Call_DirectionsAtOnce_EqualTheSerialRunBitForBit(string cell, bool returnSequences, bool masked, int batch)
    {
        manual_seed(51);
        const int steps = 30;
        var layer = Built(cell, returnSequences, [steps, 3]);
        var x = randn(batch, steps, 3);
        var mask = masked ? arange(steps).unsqueeze(0).lt(randint(steps / 3, steps + 1, [batch]).unsqueeze(1)) : null;
        long work = (long)batch * steps * 5;
        output.WriteLine($"{cell} seq={returnSequences} masked={masked} batch={batch}: slices per direction {BatchParallel.Slices(batch, work)}, threads {get_num_threads()}");
        var probe = randn(layer.ComputeOutputShape([steps, 3]).Prepend(batch).ToArray());

        layer.train();
        var (y, grads) = Step(layer, x, mask, probe);
        var (ySerial, gradsSerial) = Serially(() => Step(layer, x, mask, probe));
        Assert.True(y.equal(ySerial).all().item<bool>(), "training output differs from the serial run");
        for (int k = 0; k < grads.Length; k++)
            Assert.True(grads[k].equal(gradsSerial[k]).all().item<bool>(), $"gradient {k} differs from the serial run");

        layer.eval();
        using (no_grad())
        {
            var inferred = layer.CallWithMask(x, mask).Output;
            var inferredSerial = Serially(() => layer.CallWithMask(x, mask).Output);
            Assert.True(inferred.equal(inferredSerial).all().item<bool>(), "inference output differs from the serial run");
            Assert.False(inferred.requires_grad, "a call under no_grad recorded a graph on the worker thread");
            TensorAssert.Close(ySerial, inferred, atol: 1e-6, what: "inference vs training forward");
        }
    }

    /// <summary>
    /// The benchmark's batch-1 shape, where the per-step recurrent product (one row) goes to MKL: its
    /// rounding depends on the alignment of its operands, and the kernels' scratch used to be managed
    /// arrays at a different alignment on every call (the caller running the second direction itself
    /// gave 1.5e-8 differences, every time). With 64-byte aligned scratch the bits are the same.
    /// </summary>
    [Theory]
    [InlineData("lstm", true)]
    [InlineData("lstm", false)]
    [InlineData("gru", true)]
    [InlineData("simple_rnn", true)]
    public void Call_BatchOfOne_DirectionsAtOnceOrTakenOver_EqualTheSerialRunBitForBit(string cell, bool callerMayTakeOver)
    {
        manual_seed(54);
        const int steps = 100, features = 8, units = 64;
        var layer = new Bidirectional(Create(cell, returnSequences: true, units: units));
        layer.Build([steps, features]);
        var x = randn(1, steps, features);
        var probe = randn(1, steps, 2 * units);
        ConcurrentDirections.CallerMayTakeOver = callerMayTakeOver;
        for (int round = 0; round < 4; round++)
        {
            layer.eval();
            using (no_grad())
            {
                var inferred = layer.Call(x);
                var inferredSerial = Serially(() => layer.Call(x));
                double difference = (inferred - inferredSerial).abs().max().item<float>();
                Assert.True(difference == 0, $"round {round}: inference differs from the serial run by {difference:E2}");
            }
            layer.train();
            var (y, grads) = Step(layer, x, null, probe);
            var (ySerial, gradsSerial) = Serially(() => Step(layer, x, null, probe));
            Assert.True(y.equal(ySerial).all().item<bool>(), $"round {round}: training output differs from the serial run");
            for (int k = 0; k < grads.Length; k++)
                Assert.True(grads[k].equal(gradsSerial[k]).all().item<bool>(), $"round {round}: gradient {k} differs from the serial run");
        }
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("simple_rnn")]
    public void Call_DirectionsAtOnce_MatchFloat64OpByOpOutputsAndGradients(string cell)
    {
        manual_seed(52);
        const int batch = 40, steps = 25;
        var layer = Built(cell, returnSequences: true, [steps, 3]);
        var reference = new Bidirectional(Create(cell, returnSequences: true, ScalarType.Float64));
        reference.Build([steps, 3]);
        reference.SetWeights(layer.GetWeights().Select(w => w.to_type(ScalarType.Float64)).ToArray());
        reference.ForwardLayer.Implementation = RecurrentImplementation.OpByOp;
        reference.BackwardLayer.Implementation = RecurrentImplementation.OpByOp;
        var x = randn(batch, steps, 3);
        var mask = arange(steps).unsqueeze(0).lt(randint(steps / 3, steps + 1, [batch]).unsqueeze(1));
        var probe = randn(batch, steps, 10);
        layer.train();
        reference.train();
        var (y, grads) = Step(layer, x, mask, probe);
        var input = x.to_type(ScalarType.Float64).requires_grad_(true);
        var expected = reference.CallWithMask(input, mask).Output;
        var expectedGrads = autograd.grad([(expected * probe.to_type(ScalarType.Float64)).sum()], [input, .. reference.Weights]);
        double forward = TensorAssert.Close(expected, y.to_type(ScalarType.Float64), atol: 1e-5, what: $"{cell} output vs float64 op by op");
        double worst = 0;
        for (int k = 0; k < grads.Length; k++)
        {
            var g = expectedGrads[k];
            double relative = (grads[k].to_type(ScalarType.Float64) - g).abs().max().item<double>() / Math.Max(1e-12, g.abs().max().item<double>());
            worst = Math.Max(worst, relative);
            Assert.True(relative < 1e-4, $"{cell} gradient {k}: {relative:E2} relative to float64 op by op");
        }
        output.WriteLine($"{cell}: output {forward:E1}, worst relative gradient {worst:E1}");
    }

    [Fact]
    public void TrainingStepsAndPredictions_DirectionsAtOnce_DisposeEveryTensorOfTheWorker()
    {
        manual_seed(53);
        var layer = Built("lstm", returnSequences: true, [20, 3]);
        var model = new Sequential([layer]);
        var x = randn(40, 20, 3);
        var target = randn(40, 20, 10);
        var optimizer = optim.Adam(layer.Weights, 1e-3);
        var handedOver = new List<IDisposable>();
        void Train()
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            (layer.Call(x) - target).pow(2).mean().backward();
            optimizer.step();
        }
        Train();
        model.Predict(x, verbose: 0).Dispose();
        var statistics = DisposeScopeManager.Statistics;
        long start = statistics.ThreadTotalLiveCount;
        ConcurrentDirections.HandedOver = tensors => handedOver.AddRange(tensors);
        try
        {
            for (int k = 0; k < 20; k++)
            {
                int before = handedOver.Count;
                Train();
                model.Predict(x, verbose: 0).Dispose();
                Assert.True(handedOver.Count > before, "the directions did not run at once: nothing to check");
                // The caller's scopes (the step's, Predict's) have ended: every tensor the worker made is disposed.
                var alive = handedOver.Skip(before).OfType<Tensor>().Count(t => !t.IsInvalid);
                Assert.True(alive == 0, $"step {k}: {alive} tensors made on the worker outlived the caller's scope");
            }
        }
        finally
        {
            ConcurrentDirections.HandedOver = null;
        }
        // TorchSharp counts per thread, and the worker's tensors are disposed here without having been
        // created here: the caller's count falls by some of them. It must not grow: that would be a leak here.
        long growth = statistics.ThreadTotalLiveCount - start;
        output.WriteLine($"{handedOver.Count} tensors made on the worker in 20 training steps and predictions, all disposed; caller's live count {growth:+0;-0;0}");
        Assert.True(growth <= 5, $"the caller's live tensor count grew by {growth} over 20 steps");
    }

    [Fact]
    public void Run_FailureOnEitherThread_ReachesTheCallerAfterBothFinished()
    {
        bool otherFinished = false;
        var fromWorker = Assert.Throws<InvalidOperationException>(() => ConcurrentDirections.Run(
            () => { Thread.Sleep(50); otherFinished = true; return zeros(1); },
            () => throw new InvalidOperationException("backward direction failed")));
        Assert.Equal("backward direction failed", fromWorker.Message);
        Assert.True(otherFinished, "the caller's direction was abandoned");

        // The worker either had started, and then finished before the exception reached the caller, or
        // never runs (the caller claimed the second direction and does not run it after a failure).
        bool started = false, finished = false;
        var fromCaller = Assert.Throws<ArgumentException>(() => ConcurrentDirections.Run(
            () => throw new ArgumentException("forward direction failed"),
            () => { started = true; Thread.Sleep(50); finished = true; return zeros(1); }));
        Assert.Equal("forward direction failed", fromCaller.Message);
        Assert.True(started == finished, "the exception left while the worker was still running");
        Thread.Sleep(100);
        Assert.True(started == finished, "the worker ran after the call had returned");
    }

    [Fact]
    public void Predict_WithDropout_BothDirectionsRunInInferenceMode()
    {
        manual_seed(55);
        // The layers' own flag says training (TorchSharp's default); Predict's inference mode is per thread and must reach the worker.
        var model = new Sequential([new Bidirectional(new LSTM(6, dropout: 0.5, recurrentDropout: 0.5, returnSequences: true), inputShape: [12, 3])]);
        model.train();
        var x = randn(40, 12, 3);
        var first = model.Predict(x, verbose: 0);
        var second = model.Predict(x, verbose: 0);
        var serial = Serially(() => model.Predict(x, verbose: 0));
        Assert.True(first.equal(second).all().item<bool>(), "a direction drew dropout masks in Predict");
        Assert.True(first.equal(serial).all().item<bool>(), "Predict differs from the serial run");
    }

    [Fact]
    public void Run_CarriesTheGradientModeToTheWorker()
    {
        var weight = ones(3).requires_grad_(true);
        var (a, b) = ConcurrentDirections.Run(() => weight * 2, () => weight * 3);
        Assert.True(a.requires_grad && b.requires_grad, "with gradients on, both threads record the graph");
        using (no_grad())
        {
            var (c, d) = ConcurrentDirections.Run(() => weight * 2, () => weight * 3);
            Assert.False(c.requires_grad || d.requires_grad, "under no_grad neither thread records a graph");
        }
    }
}
