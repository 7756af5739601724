using SeqSharp.Callbacks;
using static SeqSharp.Tests.Callbacks.CallbackHarness;

namespace SeqSharp.Tests.Callbacks;

public class LearningRateSchedulerTests
{
    [Fact]
    public void Fit_Schedule_IsCalledAtEachEpochStartWithEpochAndCurrentRate()
    {
        var model = TinyDense(1, learningRate: 0.1);
        var (x, y) = Line(2, 8);
        var calls = new List<(int Epoch, double Rate)>();
        var history = model.Fit(x, y, epochs: 4, verbose: 0, callbacks:
        [
            new LearningRateScheduler((epoch, lr) =>
            {
                calls.Add((epoch, lr));
                return epoch < 2 ? lr : lr * 0.5;
            }),
        ]);
        Assert.Equal([(0, 0.1), (1, 0.1), (2, 0.1), (3, 0.05)], calls);
        Assert.Equal([0.1, 0.1, 0.05, 0.025], history["learning_rate"]);
        Assert.Equal(0.025, model.Optimizer!.LearningRate);
    }

    [Fact]
    public void Fit_KerasDocstringExample_EndsAtTheDocumentedRate()
    {
        // keras.callbacks.LearningRateScheduler's example: SGD's default 0.01, decayed by exp(-0.1)
        // after ten epochs, 15 epochs: round(lr, 5) == 0.00607.
        var model = new Sequential();
        model.Add(new SeqSharp.Layers.Dense(10, inputShape: [20]));
        model.Compile(optimizer: "sgd", loss: "mse");
        var x = arange(100, dtype: ScalarType.Float32).reshape(5, 20);
        model.Fit(x, zeros(5, 10), epochs: 15, verbose: 0,
            callbacks: [new LearningRateScheduler((epoch, lr) => epoch < 10 ? lr : lr * Math.Exp(-0.1))]);
        Assert.Equal(0.00607, Math.Round(model.Optimizer!.LearningRate, 5));
    }

    [Fact]
    public void Fit_InitialEpoch_FirstCallGetsThatEpoch()
    {
        var model = TinyDense(3, learningRate: 0.1);
        var (x, y) = Line(4, 4);
        var epochs = new List<int>();
        model.Fit(x, y, epochs: 5, initialEpoch: 3, verbose: 0,
            callbacks: [new LearningRateScheduler((epoch, lr) => { epochs.Add(epoch); return lr; })]);
        Assert.Equal([3, 4], epochs);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-0.1)]
    [InlineData(double.PositiveInfinity)]
    public void OnEpochBegin_ScheduleReturnsInvalidRate_ThrowsAndKeepsRate(double bad)
    {
        var model = TinyDense(5, learningRate: 0.1);
        var callback = Attach(new LearningRateScheduler((_, _) => bad), model);
        var e = Assert.Throws<InvalidOperationException>(() => callback.OnEpochBegin(0, Logs()));
        Assert.Contains("The output of the schedule function should be", e.Message);
        Assert.Equal(0.1, model.Optimizer!.LearningRate);
    }

    [Fact]
    public void OnEpochBegin_Verbose_WritesKerasMessage()
    {
        var model = TinyDense(6, learningRate: 0.1);
        var output = new StringWriter();
        var callback = Attach(new LearningRateScheduler((epoch, lr) => lr / 4, verbose: 1) { Output = output }, model);
        callback.OnEpochBegin(2, Logs());
        Assert.Equal("Epoch 3: LearningRateScheduler setting learning rate to 0.025.", output.ToString().Trim());
    }

    [Fact]
    public void Constructor_BadArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => new LearningRateScheduler(null!));
        Assert.Contains("verbose=-1", Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateScheduler((_, lr) => lr, verbose: -1)).Message);
    }
}
