using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SeqSharp.Activations;

/// <summary>Keras's activation names and their definitions (Keras 3 semantics).</summary>
internal static class ActivationRegistry
{
    internal const double SeluAlpha = 1.6732632423543772848170429916717;
    internal const double SeluScale = 1.0507009873554804934193349852946;

    /// <summary>The name of Keras 2's hard_sigmoid, clip(0.2 x + 0.5, 0, 1) (Keras 3's is clip(x / 6 + 0.5, 0, 1)).</summary>
    internal const string HardSigmoidKeras2 = "hard_sigmoid_keras2";

    private static readonly Dictionary<string, Activation> ByName = Build();

    public static IReadOnlyCollection<string> Names => ByName.Keys;

    public static Activation Get(string? name)
    {
        string key = string.IsNullOrEmpty(name) ? "linear" : name;
        if (ByName.TryGetValue(key, out var activation))
            return activation;
        if (key == "threshold")
            throw new ArgumentException(
                "The activation 'threshold' needs two arguments (threshold and default_value) and has no defaults, so it cannot be " +
                "named by a string (in Keras, activation=\"threshold\" fails when the layer is called). Use an Activation of another " +
                "name, or compute where(x > threshold, x, default_value) on the tensor.", nameof(name));
        throw new ArgumentException(
            $"Unknown activation: '{name}'. Expected one of: {string.Join(", ", ByName.Keys.Order(StringComparer.Ordinal))}.",
            nameof(name));
    }

    private static Dictionary<string, Activation> Build()
    {
        var list = new[]
        {
            new Activation("linear", ActivationKind.Linear, x => x.alias()),
            new Activation("relu", ActivationKind.Relu, x => F.relu(x)),
            new Activation("tanh", ActivationKind.Tanh, x => x.tanh()),
            new Activation("sigmoid", ActivationKind.Sigmoid, x => x.sigmoid()),
            // Keras 3: 0 for x <= -3, 1 for x >= 3, x / 6 + 0.5 between (LibTorch's hardsigmoid is the same function).
            new Activation("hard_sigmoid", ActivationKind.HardSigmoid, x => F.hardsigmoid(x)),
            // Keras 1 and 2's hard_sigmoid: clip(0.2 x + 0.5, 0, 1). Files written by Keras 2 that say
            // "hard_sigmoid" are read as this one (KerasConfigReader), so that they predict as they did there.
            new Activation(HardSigmoidKeras2, ActivationKind.HardSigmoidKeras2, x => (x * 0.2 + 0.5).clamp(0.0, 1.0)),
            new Activation("elu", ActivationKind.Elu, x => F.elu(x, 1.0)),
            new Activation("selu", ActivationKind.Selu, x => F.selu(x)),
            new Activation("softplus", ActivationKind.Softplus, x => F.softplus(x)),
            new Activation("softsign", ActivationKind.Softsign, x => F.softsign(x)),
            new Activation("exponential", ActivationKind.Exponential, x => x.exp()),
            new Activation("softmax", ActivationKind.Other, x => F.softmax(x, -1)),
            new Activation("swish", ActivationKind.Other, x => F.silu(x)),
            new Activation("silu", ActivationKind.Other, x => F.silu(x)),
            // keras.activations.gelu defaults to approximate=False: the exact erf form.
            new Activation("gelu", ActivationKind.Other, x => F.gelu(x)),
            // keras.activations.leaky_relu defaults to negative_slope=0.2 (the LeakyReLU layer's 0.3 is another default).
            new Activation("leaky_relu", ActivationKind.Other, x => F.leaky_relu(x, 0.2)),
            new Activation("relu6", ActivationKind.Other, x => x.clamp(0.0, 6.0)),
            new Activation("mish", ActivationKind.Other, x => x * F.softplus(x).tanh()),
            // x · hard_sigmoid(x), with Keras 3's hard_sigmoid.
            new Activation("hard_silu", ActivationKind.Other, x => x * F.hardsigmoid(x)),
            new Activation("hard_swish", ActivationKind.Other, x => x * F.hardsigmoid(x)),
            new Activation("hard_tanh", ActivationKind.Other, x => x.clamp(-1.0, 1.0)),
            new Activation("log_softmax", ActivationKind.Other, x => F.log_softmax(x, -1)),
            new Activation("log_sigmoid", ActivationKind.Other, x => -F.softplus(-x)),
            // alpha = 1: max(x, 0) + alpha · expm1(min(x, 0) / alpha).
            new Activation("celu", ActivationKind.Other, x => x.clamp_min(0.0) + x.clamp_max(0.0).expm1()),
            new Activation("tanh_shrink", ActivationKind.Other, x => x - x.tanh()),
            // threshold 0.5: x - 0.5 above 0.5, x + 0.5 below -0.5, 0 between.
            new Activation("soft_shrink", ActivationKind.Other, x => x.sign() * (x.abs() - 0.5).clamp_min(0.0)),
            new Activation("hard_shrink", ActivationKind.Other, x => torch.where(x.abs() > 0.5, x, zeros_like(x))),
            // 0 for x <= -1, (x + 1)² / 4 between, x for x >= 1.
            new Activation("sparse_plus", ActivationKind.Other, SparsePlus),
            // b = 4: (x + sqrt(x² + b)) / 2.
            new Activation("squareplus", ActivationKind.Other, x => (x + (x.square() + 4.0).sqrt()) / 2.0),
            // 0 for x <= -1, 1 for x >= 1, (x + 1) / 2 between.
            new Activation("sparse_sigmoid", ActivationKind.Other, x => ((x + 1.0) / 2.0).clamp(0.0, 1.0)),
            new Activation("sparsemax", ActivationKind.Other, Sparsemax),
            // Gated linear unit: halves the last axis, a · sigmoid(b) for its two halves.
            new Activation("glu", ActivationKind.Other, Glu, halvesLastAxis: true),
        };
        return list.ToDictionary(a => a.Name, StringComparer.Ordinal);
    }

    private static Tensor SparsePlus(Tensor x)
    {
        var middle = (x + 1.0).square() / 4.0;
        return torch.where(x <= -1.0, zeros_like(x), torch.where(x < 1.0, middle, x));
    }

    private static Tensor Glu(Tensor x)
    {
        long size = x.shape[^1];
        if (x.dim() == 0 || size % 2 != 0)
            throw new ArgumentException(
                $"The activation 'glu' splits the last axis in two halves, so its size must be even. Received: x.shape=[{string.Join(", ", x.shape)}].");
        var halves = x.chunk(2, -1);
        return halves[0] * halves[1].sigmoid();
    }

    /// <summary>
    /// Sparsemax (Martins &amp; Astudillo) over the last axis: the Euclidean projection onto the
    /// simplex, max(x - τ, 0) with τ chosen so that the outputs sum to one.
    /// </summary>
    private static Tensor Sparsemax(Tensor x)
    {
        var sorted = x.sort(-1, descending: true).Values;
        var cumulative = sorted.cumsum(-1);
        var shape = Enumerable.Repeat(1L, (int)x.dim()).ToArray();
        shape[^1] = x.shape[^1];
        var k = torch.arange(1, x.shape[^1] + 1, dtype: x.dtype, device: x.device).reshape(shape);
        var support = (sorted - (cumulative - 1.0) / k) > 0;
        var count = support.sum(-1, keepdim: true, type: x.dtype);
        // tau = (sum of the k largest - 1) / k, the k-th cumulative sum (Keras 3.16 summed every cumulative
        // sum in the support instead; keras-team/keras#23425, fixed upstream by #23469).
        var tau = (torch.where(support, sorted, zeros_like(sorted)).sum(-1, keepdim: true) - 1.0) / count;
        return (x - tau).clamp_min(0.0);
    }
}
