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
        };
        return list.ToDictionary(a => a.Name, StringComparer.Ordinal);
    }
}
