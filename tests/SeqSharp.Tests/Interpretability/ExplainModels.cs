using SeqSharp.Layers;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.Interpretability;

/// <summary>Small float64 models for the SHAP and LIME tests, and the "model unchanged" check.</summary>
internal static class ExplainModels
{
    public const ScalarType F64 = ScalarType.Float64;

    /// <summary>LSTM(4) → Dense(1, tanh) on (steps, features) inputs, float64, weights (biases included) uniform in ±0.8.</summary>
    public static Sequential Recurrent(long steps, long features, ScalarType dtype = F64)
    {
        var model = new Sequential([new LSTM(4, inputShape: [steps, features], dtype: dtype), new Dense(1, activation: "tanh", dtype: dtype)]);
        using var _ = no_grad();
        foreach (var weight in model.Layers.SelectMany(l => l.Weights))
            weight.uniform_(-0.8, 0.8);
        return model;
    }

    /// <summary>Flatten → Dense(1, linear) with the given (steps·features) kernel and a bias: f(x) = Σ w ⊙ x + bias.</summary>
    public static Sequential Linear(double[] kernel, long steps, long features, double bias = 0.3)
    {
        var model = new Sequential([new Flatten(inputShape: [steps, features], dtype: F64), new Dense(1, dtype: F64)]);
        model.SetWeights([tensor(kernel, [steps * features, 1], F64), tensor(new[] { bias }, F64)]);
        return model;
    }

    public static Tensor Output(Sequential model, Tensor x)
    {
        using var _ = no_grad();
        return model.Call(x).reshape(x.shape[0]).to_type(F64);
    }

    /// <summary>Runs <paramref name="explain"/> on a model in training mode and in inference mode: each time the mode, the weights and the (absent) gradients are as before, and x is untouched.</summary>
    public static void AssertLeavesModelUnchanged(Sequential model, Tensor x, Action<Sequential, Tensor> explain)
    {
        var before = model.GetWeights().Select(w => w.clone()).ToList();
        var xBefore = x.clone();
        foreach (bool training in new[] { true, false })
        {
            model.train(training);
            explain(model, x);
            Assert.Equal(training, model.training);
            Assert.All(model.Layers, l => Assert.Equal(training, l.training));
        }
        TestSupport.TinyModels.AssertSameWeights(before, model.GetWeights());
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
        Assert.False(x.requires_grad);
        Assert.True(x.eq(xBefore).all().item<bool>());
    }
}
