using SeqSharp.Callbacks;
using SeqSharp.Layers;
using SeqSharp.Optimizers;

namespace SeqSharp.Tests.Callbacks;

/// <summary>Tiny models, data and scripted logs for driving callbacks.</summary>
internal static class CallbackHarness
{
    /// <summary>Dense(1) on 2 features, compiled with SGD and MSE.</summary>
    public static Sequential TinyDense(int seed, double learningRate = 0.05, IReadOnlyList<SeqSharp.Metrics.Metric>? metrics = null)
    {
        manual_seed(seed);
        var model = new Sequential();
        model.Add(new Dense(1, inputShape: [2]));
        model.Compile(optimizer: new SGD(learningRate: learningRate), loss: "mse", metrics: metrics);
        return model;
    }

    /// <summary><c>y = x · [1, -2] + 0.5</c> on normal inputs.</summary>
    public static (Tensor X, Tensor Y) Line(int seed, int samples)
    {
        manual_seed(seed);
        var x = randn(samples, 2);
        var y = x.matmul(tensor(new float[] { 1, -2 }).reshape(2, 1)) + 0.5f;
        return (x, y);
    }

    /// <summary>Gives a callback its model and Fit-like parameters without running Fit.</summary>
    public static T Attach<T>(T callback, Sequential model, int epochs = 10, int steps = 1) where T : Callback
    {
        callback.SetModel(model);
        callback.SetParams(new Dictionary<string, object> { ["epochs"] = epochs, ["steps"] = steps, ["verbose"] = 0 });
        return callback;
    }

    public static Dictionary<string, double> Logs(params (string Name, double Value)[] values) =>
        values.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);

    /// <summary>
    /// Feeds epoch-end logs <c>{monitor: values[e]}</c> to the callback after OnTrainBegin, stopping
    /// where the model's StopTraining becomes true, as Fit does; returns the number of epochs run.
    /// </summary>
    public static int Run(Callback callback, Sequential model, string monitor, params double[] values)
    {
        model.StopTraining = false;
        callback.OnTrainBegin(Logs());
        int epochs = 0;
        for (int epoch = 0; epoch < values.Length && !model.StopTraining; epoch++)
        {
            callback.OnEpochBegin(epoch, Logs());
            callback.OnEpochEnd(epoch, Logs((monitor, values[epoch])));
            epochs++;
        }
        callback.OnTrainEnd(Logs());
        return epochs;
    }

    /// <summary>A callback that overwrites one log value at each epoch end with a scripted value (put it before the callback under test).</summary>
    public static LambdaCallback Script(string name, params double[] values) =>
        new(onEpochEnd: (epoch, logs) => logs[name] = values[epoch]);
}
