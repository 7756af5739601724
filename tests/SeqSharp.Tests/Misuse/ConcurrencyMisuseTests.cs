using SeqSharp.Callbacks;
using SeqSharp.Layers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Misuse;

/// <summary>
/// One training call at a time per model; Predict from any thread, never in training mode and never
/// switching the model's flag. Threads meet at events (no sleeps), in a child process because a
/// second Fit on an LSTM model used to abort the process.
/// </summary>
public class ConcurrencyMisuseTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Records the mode each call ran in and, once, blocks the training thread inside its forward pass.</summary>
    private sealed class Probe(string name) : Layer(name, null, null)
    {
        public ManualResetEventSlim Inside { get; } = new();
        public ManualResetEventSlim Release { get; } = new(true);
        public List<(int Thread, bool Training)> Seen { get; } = [];

        public override InputSpec InputSpec => new(MinRank: 2);
        protected override void BuildCore(long[] sampleShape) { }
        public override long[] ComputeOutputShape(long[] sampleShape) => sampleShape;

        public override Tensor forward(Tensor x)
        {
            lock (Seen)
                Seen.Add((Environment.CurrentManagedThreadId, training));
            if (training && !Release.IsSet)
            {
                Inside.Set();
                Assert.True(Release.Wait(Patience), "The main thread never released the training thread.");
            }
            return x.alias();
        }
    }

    /// <summary>LSTM (with dropout) → probe → Dropout → probe → Dense: dropout shows in any training-mode call.</summary>
    private static (Sequential Model, Probe Before, Probe After) NewModel(string name)
    {
        var before = new Probe("probe_before");
        var after = new Probe("probe_after");
        var model = new Sequential(
            [new LSTM(6, inputShape: [5, 3], returnSequences: false, dropout: 0.3, name: "lstm"), before, new Dropout(0.5), after, new Dense(2, name: "head")],
            name: name);
        model.Compile(optimizer: "adam", loss: "mse");
        return (model, before, after);
    }

    /// <summary>The model without its probes and dropout: what inference must compute, by an independent path.</summary>
    /// <remarks>The twin is made beforehand: creating its weights draws from the global generator, which the Fit under test uses.</remarks>
    private static Tensor Inference(Sequential model, Sequential twin, Tensor x)
    {
        twin.Layers[0].SetWeights(model.Layers[0].GetWeights());
        twin.Layers[1].SetWeights(model.Layers[4].GetWeights());
        using var _ = no_grad();
        return twin.Layers[1].Call(twin.Layers[0].Call(x));
    }

    private sealed class PauseAtBatch(int batch, Action onPause) : Callback
    {
        public override void OnTrainBatchEnd(int index, IDictionary<string, double> logs)
        {
            if (index == batch)
                onPause();
        }
    }

    [ChildScenario]
    internal static void Scenarios()
    {
        var x = randn(24, 5, 3);
        var y = randn(24, 2);
        var probeX = randn(7, 5, 3);

        // The reference: the same Fit, alone.
        var (reference, _, _) = NewModel("reference");
        var (model, before, after) = NewModel("m");
        var twin = new Sequential([new LSTM(6, inputShape: [5, 3], returnSequences: false), new Dense(2)]);
        model.SetWeights(reference.GetWeights());
        manual_seed(11);
        var expectedHistory = reference.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0);
        var expectedWeights = reference.GetWeights();

        // The training thread stops twice: inside its forward pass at batch 2 (the probe blocks), and
        // between batches 3 and 4 (a callback blocks). The main thread acts at each stop.
        var betweenBatches = new ManualResetEventSlim();
        var resume = new ManualResetEventSlim();
        var pause = new PauseAtBatch(3, () =>
        {
            betweenBatches.Set();
            Assert.True(resume.Wait(Patience), "The main thread never resumed the training thread.");
        });
        int stepsSeen = 0;
        var countSteps = new LambdaCallback(onTrainBatchBegin: (batch, _) =>
        {
            if (++stepsSeen == 3)
                before.Release.Reset();   // block inside the next forward pass (batch 2)
        });
        manual_seed(11);
        var training = Task.Run(() => model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, callbacks: [countSteps, pause]));

        // Stop 1: the training thread is inside a training-mode forward pass.
        Assert.True(before.Inside.Wait(Patience), "Fit never reached its forward pass.");
        int trainingThread = before.Seen[^1].Thread;
        var p1 = model.Predict(probeX, verbose: 0);
        Assert.False(model.training);
        before.Release.Set();

        // Stop 2: between batches; every training call from this thread is refused, prediction works.
        Assert.True(betweenBatches.Wait(Patience), "Fit never reached batch 3.");
        var refusedFit = Assert.Throws<InvalidOperationException>(() => model.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0));
        Assert.Contains("model 'm' is already training on another thread", refusedFit.Message);
        var refusedEvaluate = Assert.Throws<InvalidOperationException>(() => model.Evaluate(x, y, verbose: 0));
        Assert.Contains("model 'm' is already training on another thread", refusedEvaluate.Message);
        Assert.Throws<InvalidOperationException>(() => model.Compile(optimizer: "sgd", loss: "mae"));
        var p2 = model.Predict(probeX, verbose: 0);
        var p3 = model.Predict(probeX, verbose: 0);
        // Predictions of the weights as they are now (batch 3 done): no dropout, by an independent path.
        TensorAssert.Close(Inference(model, twin, probeX), p2, atol: 1e-6, what: "Predict during Fit");
        Assert.True(p2.eq(p3).all().item<bool>(), "Two predictions during Fit differ: dropout was active.");
        Assert.False(model.training);
        resume.Set();

        var history = training.Wait(Patience) ? training.Result : throw new TimeoutException("Fit did not finish.");
        // The first call's result is unaffected: the same history and weights as the Fit alone.
        Assert.Equal(expectedHistory["loss"], history["loss"]);
        TinyModels.AssertSameWeights(expectedWeights, model.GetWeights());
        Assert.False(model.training);
        // The probes saw training mode on the training thread only, inference on this one, throughout.
        var main = Environment.CurrentManagedThreadId;
        foreach (var probe in new[] { before, after })
        {
            Assert.All(probe.Seen.Where(s => s.Thread == trainingThread), s => Assert.True(s.Training));
            Assert.All(probe.Seen.Where(s => s.Thread == main), s => Assert.False(s.Training));
            Assert.Contains(probe.Seen, s => s.Thread == main);
        }
        Assert.Equal(2 * 6, after.Seen.Count(s => s.Thread == trainingThread));
        _ = p1;

        // The gate is free again, for any thread, also after a call that failed.
        Assert.Throws<ArgumentException>(() => model.Fit(x, randn(23, 2), verbose: 0));
        Task.Run(() => model.Evaluate(x, y, verbose: 0)).Wait(Patience);
        // A callback on the training thread may call Evaluate: that is not concurrent.
        double nested = double.NaN;
        model.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0,
            callbacks: [new LambdaCallback(onEpochEnd: (_, _) => nested = model.Evaluate(x, y, verbose: 0)["loss"])]);
        Assert.True(double.IsFinite(nested));

        // Predict from many threads at once: every result bit-exact.
        var single = model.Predict(x, batchSize: 5, verbose: 0);
        using var start = new Barrier(4);
        var results = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait(Patience);
            return Enumerable.Range(0, 10).Select(_ => model.Predict(x, batchSize: 5, verbose: 0)).ToList();
        })).ToArray();
        Assert.True(Task.WaitAll(results, Patience), "The predictions did not finish.");
        Assert.All(results.SelectMany(t => t.Result), r => Assert.True(single.eq(r).all().item<bool>(), "A concurrent prediction differs."));
        Assert.False(model.training);
        Console.WriteLine("DONE");
    }

    [Fact]
    public void TrainingCalls_FromTwoThreads_SecondRefusedFirstUnaffectedPredictNeverTrains()
    {
        var result = ChildProcess.Run($"{nameof(ConcurrencyMisuseTests)}.{nameof(Scenarios)}");

        Assert.True(result.ExitCode != ChildResult.Aborted, $"The child aborted: {result}");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("DONE", result.Output);
    }
}
