using SeqSharp.Callbacks;
using SeqSharp.Optimizers;
using static SeqSharp.Tests.Callbacks.CallbackHarness;

namespace SeqSharp.Tests.Callbacks;

public class TerminateOnNaNTests
{
    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void OnTrainBatchEnd_InvalidLoss_StopsTrainingWithKerasMessage(double loss)
    {
        var model = TinyDense(1);
        var output = new StringWriter();
        var callback = Attach(new TerminateOnNaN { Output = output }, model);
        callback.OnTrainBatchEnd(3, Logs(("loss", loss)));
        Assert.True(model.StopTraining);
        Assert.Equal("Batch 3: Invalid loss, terminating training", output.ToString().Trim());
    }

    [Fact]
    public void OnTrainBatchEnd_FiniteOrMissingLoss_DoesNothing()
    {
        var model = TinyDense(2);
        var output = new StringWriter();
        var callback = Attach(new TerminateOnNaN { Output = output }, model);
        callback.OnTrainBatchEnd(0, Logs(("loss", 1e30)));
        callback.OnTrainBatchEnd(1, Logs(("mae", double.NaN)));
        Assert.False(model.StopTraining);
        Assert.Empty(output.ToString());
    }

    [Fact]
    public void OnTrainBatchEnd_RaiseError_Throws()
    {
        var model = TinyDense(3);
        var callback = Attach(new TerminateOnNaN(raiseError: true), model);
        var e = Assert.Throws<InvalidOperationException>(() => callback.OnTrainBatchEnd(5, Logs(("loss", double.NaN))));
        Assert.Equal("NaN or Inf loss encountered at batch 5. Loss value: nan. Terminating training immediately.", e.Message);
    }

    [Fact]
    public void Fit_DivergingTraining_StopsAfterTheFirstInvalidBatch()
    {
        manual_seed(4);
        var model = new Sequential();
        model.Add(new SeqSharp.Layers.Dense(1, inputShape: [2]));
        model.Compile(optimizer: new SGD(learningRate: 1e6), loss: "mse");   // explodes within a few steps
        var x = randn(64, 2) * 10;
        var y = randn(64, 1) * 10;
        var losses = new List<double>();
        var output = new StringWriter();
        var history = model.Fit(x, y, batchSize: 1, epochs: 3, verbose: 0, shuffle: false, callbacks:
        [
            new LambdaCallback(onTrainBatchEnd: (_, logs) => losses.Add(logs["loss"])),
            new TerminateOnNaN { Output = output },
        ]);
        Assert.True(losses.Count < 64, $"training should stop within the first epoch; ran {losses.Count} batches");
        Assert.False(double.IsFinite(losses[^1]));
        Assert.True(losses.Take(losses.Count - 1).All(double.IsFinite), "it stops at the first invalid loss");
        Assert.Single(history.Epochs);   // the epoch still ends (with its logs), then training ends
        Assert.Equal($"Batch {losses.Count - 1}: Invalid loss, terminating training", output.ToString().Trim());
    }
}
